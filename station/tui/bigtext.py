"""Letters three rows tall, readable from a meter away: for PASS, FAIL and BUSY."""

from __future__ import annotations

#: 3x5 bitmaps, one string per pixel row.
_GLYPHS = {
    "P": ("###", "#.#", "###", "#..", "#.."),
    "A": ("###", "#.#", "###", "#.#", "#.#"),
    "S": ("###", "#..", "###", "..#", "###"),
    "F": ("###", "#..", "##.", "#..", "#.."),
    "I": ("###", ".#.", ".#.", ".#.", "###"),
    "L": ("#..", "#..", "#..", "#..", "###"),
    "B": ("##.", "#.#", "###", "#.#", "##."),
    "U": ("#.#", "#.#", "#.#", "#.#", "###"),
    "Y": ("#.#", "#.#", ".#.", ".#.", ".#."),
}
_HALF = {(True, True): "█", (True, False): "▀", (False, True): "▄", (False, False): " "}


def big(word: str, *, tall: bool = False) -> list[str]:
    """``word`` in half-block letters: three text rows, each pixel two columns wide.

    ``tall``: five rows, one per pixel, for cards with room to spare.
    """
    if tall:
        return [
            "  ".join(
                "".join("██" if p == "#" else "  " for p in _GLYPHS[c][r]) for c in word.upper()
            )
            for r in range(5)
        ]
    rows = ["", "", ""]
    for n, letter in enumerate(word.upper()):
        glyph = _GLYPHS[letter]
        for r in range(3):
            top = glyph[2 * r]
            bottom = glyph[2 * r + 1] if 2 * r + 1 < 5 else "..."
            cells = "".join(
                _HALF[(t == "#", b == "#")] * 2 for t, b in zip(top, bottom, strict=True)
            )
            rows[r] += ("  " if n else "") + cells
    return rows
