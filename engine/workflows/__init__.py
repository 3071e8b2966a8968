"""One Qt-free function per use case; the CLI and the studio are thin adapters over them.

Each takes frozen option dataclasses plus ``progress``/``cancel`` (``engine.jobs``) and
honours the project's avatar. docs/architecture.md says where each use case lives.
"""
