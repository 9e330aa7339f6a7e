"""The knowledge base: curated FAQ files, their loader and validator, and the matcher."""

from pathlib import Path

#: The KB shipped with the project; a trust points EVIDENCE_DESK_KB_DIR elsewhere to use its own.
SHIPPED_KB_DIR = Path(__file__).resolve().parent
