"""Colors as providers hold them: a palette of named colors, and the one nearest a CRM color."""


def nearest(color: str, palette: dict[str, str]) -> str:
    """The key of the palette color (#rrggbb) nearest `color`; "" for no color, or an empty palette."""
    if not color or not palette:
        return ""
    wanted = _rgb(color)
    return min(sorted(palette), key=lambda key: sum((a - b) ** 2 for a, b in zip(_rgb(palette[key]), wanted,
                                                                                  strict=True)))


def _rgb(color):
    color = color.lstrip("#")
    return tuple(int(color[index:index + 2], 16) for index in (0, 2, 4))
