"""Sign notation: HamNoSys 4 parsing, SiGML in and out, the DSGS data, and synthesis of
notation into motion (handshapes, body anchors, placement, movements)."""
