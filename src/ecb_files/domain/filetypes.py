"""The allowed file types (§4): one table, extension → group and content types.

Every allowed extension maps to its group and to the content types accepted for it.
The first type of each entry is the canonical one, the one we tell clients to send: the
IANA-registered type where one exists, else the type in general use (Apache httpd's
``mime.types``, then what Windows registers). The others are aliases that real clients
send: browsers and operating-system registries, .NET ``MimeMapping``, libmagic, older
Office installations.

``application/octet-stream`` is accepted for *every* allowed extension (a client that
does not know a type sends it), so it is kept out of the per-extension entries and added
by :func:`accepted_types`, :func:`is_accepted` and :func:`content_types_document`.

Comparison rules (§9): extensions and MIME types are case-insensitive; MIME
parameters (``; charset=utf-8``) and surrounding whitespace are ignored. The extension is
what follows the last ``.`` of the file name; a name with no dot, ending in a dot, or
whose only dot is its first character (``.bashrc``) has none.

``docs/file-types.md`` is generated from this table by ``scripts/gen_file_types_doc.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

OCTET_STREAM = "application/octet-stream"

# Aliases shared by several extensions. Each tuple starts with the canonical type.
_JPEG = ("image/jpeg", "image/jpg", "image/pjpeg")
_TIFF = ("image/tiff", "image/x-tiff")
_PICT = ("image/x-pict", "image/pict")
_MPEG_VIDEO = ("video/mpeg", "video/x-mpeg")
_MP4_VIDEO = ("video/mp4",)
_QUICKTIME = ("video/quicktime",)
_MPEG_AUDIO = ("audio/mpeg", "audio/x-mpeg")
_MIDI = ("audio/midi", "audio/x-midi", "audio/mid", "application/x-midi")
_AIFF = ("audio/aiff", "audio/x-aiff")
_BASIC_AUDIO = ("audio/basic", "audio/x-au")
_OGG_AUDIO = ("audio/ogg",)
_SMD = ("audio/x-smd",)
_HTML = ("text/html",)
_XHTML = ("application/xhtml+xml",)
_XML = ("application/xml", "text/xml")
_TEXINFO = ("application/x-texinfo", "text/x-texinfo")
_PLAIN_TEXT = ("text/plain",)
_VISIO = ("application/vnd.visio", "application/x-visio")
# Legacy binary Office formats: the registered type, then the pre-registration names
# that old clients and the 1990s "webmaster" lists still send.
_WORD = ("application/msword",)
_EXCEL = (
    "application/vnd.ms-excel",
    "application/excel",
    "application/x-excel",
    "application/x-msexcel",
    "application/msexcel",
)
_POWERPOINT = (
    "application/vnd.ms-powerpoint",
    "application/mspowerpoint",
    "application/powerpoint",
    "application/x-mspowerpoint",
)
# Office Open XML files are ZIP packages: clients that sniff content (libmagic before it
# learned OOXML, Internet Explorer without Office) label them as ZIP.
_ZIP_PACKAGE = ("application/zip", "application/x-zip-compressed")


def _ooxml(registered: str, legacy: tuple[str, ...]) -> tuple[str, ...]:
    """An OOXML entry: its ECMA-376 type, the application's legacy type, the ZIP types.

    Clients whose registry predates OOXML send the legacy binary type of the same
    application (``application/msword`` for ``.docx``).
    """
    return (registered, legacy[0], *_ZIP_PACKAGE)


_GROUPS: tuple[tuple[str, dict[str, tuple[str, ...]]], ...] = (
    (
        "Images",
        {
            "webm": ("video/webm", "audio/webm"),
            "bmp": ("image/bmp", "image/x-bmp", "image/x-ms-bmp", "image/x-windows-bmp"),
            "gif": ("image/gif",),
            "ico": ("image/vnd.microsoft.icon", "image/x-icon"),
            "jpg": _JPEG,
            "jpeg": _JPEG,
            "jpe": _JPEG,
            "pic": _PICT,
            "pict": _PICT,
            "png": ("image/png", "image/x-png"),
            "rf": ("image/vnd.rn-realflash",),
            "rgb": ("image/x-rgb",),
            "dwg": (
                "image/vnd.dwg",
                "application/acad",
                "application/x-acad",
                "application/autocad_dwg",
                "application/dwg",
                "application/x-dwg",
                "image/x-dwg",
            ),
            "svg": ("image/svg+xml",),
            "svgz": ("image/svg+xml", "image/svg+xml-compressed"),
            "tif": _TIFF,
            "tiff": _TIFF,
        },
    ),
    (
        "Video",
        {
            "mkv": ("video/matroska", "video/x-matroska"),
            "3gp": ("video/3gpp", "audio/3gpp"),
            "asf": ("application/vnd.ms-asf", "video/x-ms-asf"),
            "avi": ("video/x-msvideo", "video/avi", "video/msvideo", "video/vnd.avi"),
            "mpeg": _MPEG_VIDEO,
            "mpg": _MPEG_VIDEO,
            # MPEG audio in the seed's video group; Windows registers it as video/mpeg.
            "mpa": ("audio/mpeg", "video/mpeg", "audio/x-mpeg"),
            "mpe": _MPEG_VIDEO,
            "m1v": _MPEG_VIDEO,
            "m2v": _MPEG_VIDEO,
            "m4u": ("video/vnd.mpegurl", "video/x-mpegurl"),
            "mp4": ("video/mp4", "audio/mp4", "application/mp4"),
            "mp4v": _MP4_VIDEO,
            "mpg4": _MP4_VIDEO,
            "mov": _QUICKTIME,
            "qt": _QUICKTIME,
            "ogv": ("video/ogg",),
            "m4v": ("video/mp4", "video/x-m4v"),
            "rv": ("video/vnd.rn-realvideo", "video/x-pn-realvideo"),
        },
    ),
    (
        "Audio",
        {
            "mp2": ("audio/mpeg", "audio/x-mpeg", "video/mpeg"),
            "mp3": (
                "audio/mpeg",
                "audio/mp3",
                "audio/mpeg3",
                "audio/x-mpeg",
                "audio/x-mpeg-3",
                "audio/x-mp3",
                "audio/mpg",
            ),
            "mpga": _MPEG_AUDIO,
            "m2a": _MPEG_AUDIO,
            "m4a": ("audio/mp4", "audio/x-m4a", "audio/m4a", "audio/mp4a-latm"),
            "m4b": ("audio/mp4", "audio/m4b", "audio/x-m4b"),
            "m4p": ("audio/mp4", "audio/m4p", "audio/x-m4p", "audio/mp4a-latm"),
            "m4r": ("audio/mp4", "audio/x-m4r"),
            "flac": ("audio/flac", "audio/x-flac"),
            "ra": ("audio/x-pn-realaudio", "audio/x-realaudio", "audio/vnd.rn-realaudio"),
            "ram": ("audio/x-pn-realaudio",),
            # WAVE was never registered; audio/wav is what browsers send.
            "wav": ("audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave"),
            "ogg": ("audio/ogg", "application/ogg"),
            "oga": _OGG_AUDIO,
            "spx": ("audio/ogg", "audio/speex", "audio/x-speex"),
            "mid": _MIDI,
            "midi": _MIDI,
            "wma": ("audio/x-ms-wma",),
            "wax": ("audio/x-ms-wax",),
            "mka": ("audio/matroska", "audio/x-matroska"),
            "aac": ("audio/aac", "audio/x-aac", "audio/aacp", "audio/x-hx-aac-adts"),
            "adt": ("audio/aac", "audio/vnd.dlna.adts"),
            "adts": ("audio/aac", "audio/vnd.dlna.adts", "audio/x-aac"),
            "aif": _AIFF,
            "aifc": (*_AIFF, "audio/x-aifc"),
            "aiff": _AIFF,
            "au": _BASIC_AUDIO,
            "m3u": (
                "application/vnd.apple.mpegurl",
                "audio/x-mpegurl",
                "audio/mpegurl",
                "application/x-mpegurl",
            ),
            "rmi": ("audio/midi", "audio/mid"),
            # RealAudio plug-in, as the seed's audio group means it (not a Linux package).
            "rpm": ("audio/x-pn-realaudio-plugin",),
            "smd": _SMD,
            "smx": _SMD,
            "smz": _SMD,
            "snd": _BASIC_AUDIO,
            "s3m": ("audio/s3m", "audio/x-s3m"),
            "qcp": ("audio/qcelp", "audio/evrc-qcp", "audio/vnd.qcelp"),
        },
    ),
    (
        "Web",
        {
            "xhtml": _XHTML,
            "xht": _XHTML,
            "htmls": _HTML,
            "shtml": ("text/html", "text/x-server-parsed-html"),
            "html": _HTML,
            "htm": _HTML,
            # An MHTML archive is a MIME message whose root is multipart/related (RFC 2557).
            "mht": ("message/rfc822", "multipart/related", "application/x-mimearchive"),
        },
    ),
    (
        "Office",
        {
            "xl": _EXCEL,
            "xld": _EXCEL,
            "xlk": _EXCEL,
            "xlv": _EXCEL,
            "word": _WORD,
            "doc": (*_WORD, "application/vnd.ms-word"),
            "rtf": ("application/rtf", "text/rtf", "application/x-rtf", "text/richtext"),
            "docm": _ooxml("application/vnd.ms-word.document.macroEnabled.12", _WORD),
            "one": ("application/onenote", "application/msonenote"),
            # .NET's MimeMapping (and IIS) still label .ods as application/oleobject.
            "ods": ("application/vnd.oasis.opendocument.spreadsheet", "application/oleobject"),
            "ppz": _POWERPOINT,
            "odt": ("application/vnd.oasis.opendocument.text",),
            "dot": _WORD,
            # An Office "ActiveMime" part: no type was ever assigned; octet-stream only.
            "mso": (),
            "xml": _XML,
            "xsl": (*_XML, "application/xslt+xml", "text/xsl"),
            "xll": _EXCEL,
            "ttf": (
                "font/ttf",
                "font/sfnt",
                "application/font-sfnt",
                "application/x-font-ttf",
                "application/x-font-truetype",
            ),
            "tex": ("application/x-tex", "text/x-tex"),
            "texi": _TEXINFO,
            "texinfo": _TEXINFO,
            # Microsoft Project, as the seed's Office group means it (not Musepack audio).
            "mpc": ("application/vnd.ms-project", "application/x-project"),
            "xls": _EXCEL,
            "xla": _EXCEL,
            "xlb": _EXCEL,
            "xlc": _EXCEL,
            "xlm": _EXCEL,
            "xlt": _EXCEL,
            "xlw": _EXCEL,
            "xlam": _ooxml("application/vnd.ms-excel.addin.macroEnabled.12", _EXCEL),
            "xlsb": _ooxml("application/vnd.ms-excel.sheet.binary.macroEnabled.12", _EXCEL),
            "xlsm": _ooxml("application/vnd.ms-excel.sheet.macroEnabled.12", _EXCEL),
            "xltm": _ooxml("application/vnd.ms-excel.template.macroEnabled.12", _EXCEL),
            "pot": _POWERPOINT,
            "ppt": _POWERPOINT,
            "pwz": _POWERPOINT,
            "ppa": _POWERPOINT,
            "pps": _POWERPOINT,
            "ppam": _ooxml("application/vnd.ms-powerpoint.addin.macroEnabled.12", _POWERPOINT),
            "pptm": _ooxml(
                "application/vnd.ms-powerpoint.presentation.macroEnabled.12", _POWERPOINT
            ),
            "ppsm": _ooxml("application/vnd.ms-powerpoint.slideshow.macroEnabled.12", _POWERPOINT),
            "potm": _ooxml("application/vnd.ms-powerpoint.template.macroEnabled.12", _POWERPOINT),
            "dotm": _ooxml("application/vnd.ms-word.template.macroEnabled.12", _WORD),
            "potx": _ooxml(
                "application/vnd.openxmlformats-officedocument.presentationml.template",
                _POWERPOINT,
            ),
            "ppsx": _ooxml(
                "application/vnd.openxmlformats-officedocument.presentationml.slideshow",
                _POWERPOINT,
            ),
            "pptx": _ooxml(
                "application/vnd.openxmlformats-officedocument.presentationml.presentation",
                _POWERPOINT,
            ),
            "xlsx": _ooxml(
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", _EXCEL
            ),
            "xltx": _ooxml(
                "application/vnd.openxmlformats-officedocument.spreadsheetml.template", _EXCEL
            ),
            "docx": _ooxml(
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document", _WORD
            ),
            "dotx": _ooxml(
                "application/vnd.openxmlformats-officedocument.wordprocessingml.template", _WORD
            ),
        },
    ),
    (
        "Common",
        {
            "eml": ("message/rfc822",),
            "msg": ("application/vnd.ms-outlook",),
            "pdf": (
                "application/pdf",
                "application/x-pdf",
                "application/acrobat",
                "application/vnd.pdf",
                "text/pdf",
                "text/x-pdf",
            ),
            "sig": ("application/pgp-signature",),
            "json": ("application/json", "text/json"),
            "p7s": ("application/pkcs7-signature", "application/x-pkcs7-signature"),
            "zip": (
                "application/zip",
                "application/x-zip-compressed",
                "application/x-zip",
                "application/x-compressed",
                "multipart/x-zip",
            ),
            "vcf": ("text/vcard", "text/x-vcard", "text/directory"),
            "vcs": ("text/x-vcalendar", "text/calendar"),
            "txt": _PLAIN_TEXT,
            "text": _PLAIN_TEXT,
            "vsd": _VISIO,
            # Excel registers itself for .csv on Windows, so browsers there send its type.
            "csv": (
                "text/csv",
                "application/vnd.ms-excel",
                "text/comma-separated-values",
                "text/x-comma-separated-values",
                "text/x-csv",
                "application/csv",
                "application/x-csv",
                "text/plain",
            ),
            "xps": ("application/vnd.ms-xpsdocument", "application/oxps"),
            "oxps": ("application/oxps", "application/vnd.ms-xpsdocument"),
            "heic": ("image/heic", "image/heif"),
            "avif": ("image/avif",),
        },
    ),
    (
        "Calculation documents",
        {
            # Insurer calculation formats with no type assigned anywhere: octet-stream only.
            "frs": (),
            "sit": ("application/x-stuffit", "application/x-sit", "application/stuffit"),
            "nta": (),
        },
    ),
    (
        "Other",
        {
            "xsd": _XML,
            "css": ("text/css",),
            "emz": ("application/x-msmetafile",),
            "wmz": ("application/x-ms-wmz", "application/x-msmetafile"),
            # Generic data: no type describes it.
            "dat": (),
            "ics": ("text/calendar", "application/ics"),
            "url": ("application/internet-shortcut", "application/x-mswinurl", "application/x-url"),
            "vst": _VISIO,
            "vsw": _VISIO,
            "rtx": ("text/richtext", "application/rtf"),
            "rt": ("text/vnd.rn-realtext", "text/richtext"),
            "vml": (*_XML, "application/vnd.openxmlformats-officedocument.vmlDrawing"),
            "rels": (
                "application/vnd.openxmlformats-package.relationships+xml",
                *_XML,
            ),
        },
    ),
)


@dataclass(frozen=True)
class FileType:
    """One allowed extension: its §4 group and the content types accepted for it.

    ``content_types`` starts with the canonical type and never holds
    ``application/octet-stream``, which every extension accepts.
    """

    extension: str
    group: str
    content_types: tuple[str, ...]

    @property
    def accepted(self) -> tuple[str, ...]:
        """Every accepted type, the canonical one first and octet-stream last."""
        return (*self.content_types, OCTET_STREAM)


def _build(
    groups: tuple[tuple[str, dict[str, tuple[str, ...]]], ...],
) -> tuple[Mapping[str, FileType], Mapping[str, frozenset[str]]]:
    by_extension: dict[str, FileType] = {}
    for group, entries in groups:
        for extension, content_types in entries.items():
            # A mistake here would silently widen or narrow the allowlist: fail at import.
            if extension != extension.lower() or extension in by_extension:
                raise ValueError(f"file type table: bad or repeated extension {extension!r}")
            folded = [t.lower() for t in content_types]
            if OCTET_STREAM in folded or len(set(folded)) != len(folded):
                raise ValueError(f"file type table: bad content types for {extension!r}")
            by_extension[extension] = FileType(extension, group, content_types)
    accepted = {ext: frozenset(t.lower() for t in ft.accepted) for ext, ft in by_extension.items()}
    return MappingProxyType(by_extension), MappingProxyType(accepted)


_BY_EXTENSION, _ACCEPTED = _build(_GROUPS)

GROUPS: tuple[str, ...] = tuple(name for name, _ in _GROUPS)


def file_types() -> tuple[FileType, ...]:
    """Every allowed file type, grouped and ordered as in §4."""
    return tuple(_BY_EXTENSION.values())


def extension_of(file_name: str) -> str | None:
    """What follows the last ``.`` of ``file_name``, lower-cased.

    None for a name with no dot, ending in a dot, or whose only dot is its first
    character (``.bashrc`` is a name, not an extension).
    """
    stem, dot, extension = file_name.rpartition(".")
    if not dot or not extension or not stem:
        return None
    return extension.lower()


def is_allowed_extension(ext: str) -> bool:
    """Whether ``ext`` (without the dot, any letter case) is in the §4 allowlist."""
    return ext.lower() in _BY_EXTENSION


def accepted_types(ext: str) -> tuple[str, ...] | None:
    """The content types accepted for ``ext``, canonical first, octet-stream last.

    None if the extension is not allowed.
    """
    file_type = _BY_EXTENSION.get(ext.lower())
    return None if file_type is None else file_type.accepted


def normalize_media_type(content_type: str) -> str:
    """``type/subtype`` of a Content-Type value: parameters and whitespace dropped, lower case."""
    return content_type.partition(";")[0].strip().lower()


def is_accepted(ext: str, content_type: str) -> bool:
    """Whether ``content_type`` is accepted for a file with extension ``ext`` (§4).

    Case-insensitive; parameters such as ``; charset=utf-8`` and surrounding whitespace
    are ignored. False for an extension that is not allowed.
    """
    accepted = _ACCEPTED.get(ext.lower())
    return accepted is not None and normalize_media_type(content_type) in accepted


def content_types_document() -> dict[str, list[str]]:
    """What ``GET …/file/contentTypes`` serves: extension → accepted types.

    Exactly the §4 extensions, in §4 order, each list canonical type first and
    ``application/octet-stream`` last. A fresh value on every call.
    """
    return {ext: list(ft.accepted) for ext, ft in _BY_EXTENSION.items()}


def guess_content_type(file_name: str) -> str | None:
    """The canonical content type for ``file_name``, or None if its extension is not allowed.

    For an extension no type was ever assigned to, that is ``application/octet-stream``.
    """
    extension = extension_of(file_name)
    if extension is None:
        return None
    types = accepted_types(extension)
    return None if types is None else types[0]
