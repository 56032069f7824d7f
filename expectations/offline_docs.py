"""Data Docs that work without the internet: CDN links rewritten to assets copied next to the site.

Great Expectations' pages reference Bootstrap, jQuery, Font Awesome and friends on public CDNs; on a government
network without internet access they render unstyled, and their scripts block while the browser waits for hosts it
cannot reach. `localize_site` copies the vendored files (`static/vendor/`, see its README for versions and
licences) into `<site>/static/vendor/`, points every page at them with a path relative to the page (so the site
also works opened from disk), and removes the tags of what is not vendored.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

VENDOR = Path(__file__).parent / "static" / "vendor"
SITE_STATIC = Path("static")  # the site's own static folder (GE puts its images and styles there)
GE_IMAGES = (
    "https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/"  # GE's logo: also in static/images
)

LOCAL: dict[str, str] = {
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "bootstrap.min.css",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "bootstrap.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": "bootstrap-table.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": "bootstrap-table.min.js",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css": (
        "bootstrap-table-filter-control.min.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css": (
        "bootstrap-table-filter-control.min.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js": (
        "bootstrap-table-filter-control.min.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css": (
        "bootstrap-datepicker.min.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js": (
        "bootstrap-datepicker.min.js"
    ),
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": "popper.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": "css/fontawesome-all.min.css",
}
DROPPED = (
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css",
    "https://cdn.jsdelivr.net/npm/vega@5",
    "https://cdn.jsdelivr.net/npm/vega-lite@5",
    "https://cdn.jsdelivr.net/npm/vega-embed@6",
)
_TAG = re.compile(r'<(link|script)\b[^>]*?\b(?:href|src)="(https?://[^"]+)"[^>]*>(?:\s*</script>)?', re.S)
_SRI = re.compile(r'\s+(?:integrity|crossorigin)="[^"]*"')
_GE_IMAGE = re.compile(re.escape(GE_IMAGES) + r'([\w.-]+)(?:\?[^"]*)?')


def localize_page(html: str, static_dir: str) -> str:
    """`html` with every vendored CDN reference pointing into `static_dir`/vendor (a relative URL path), GE's logo
    at the copy in `static_dir`/images, and the script and stylesheet tags of DROPPED removed."""
    vendor_dir = f"{static_dir}/vendor"

    def swap(match: re.Match[str]) -> str:
        tag, url = match.group(0), match.group(2)
        if url in DROPPED:
            return ""
        if url not in LOCAL:
            return tag
        return _SRI.sub("", tag.replace(url, f"{vendor_dir}/{LOCAL[url]}"))  # the hashes are the CDN files'

    return _GE_IMAGE.sub(lambda m: f"{static_dir}/images/{m.group(1)}", _TAG.sub(swap, html))


def localize_site(site_dir: Path) -> int:
    """Copy the vendored assets into the site and rewrite its pages; returns the number of pages rewritten."""
    static = site_dir / SITE_STATIC
    shutil.copytree(VENDOR, static / "vendor", dirs_exist_ok=True)  # licences and their README travel along
    rewritten = 0
    for page in site_dir.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        relative = Path(os.path.relpath(static, page.parent)).as_posix()
        changed = localize_page(html, relative)
        if changed != html:
            page.write_text(changed, encoding="utf-8")
            rewritten += 1
    return rewritten
