"""Side panels: the prompt (text to sign), the properties of the selection, transport."""
