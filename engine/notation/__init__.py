"""Sign notation: HamNoSys 4 symbols and parsing (``engine.notation.hamnosys``)."""
