#!/usr/bin/env python3
"""The AppStream metainfo says what the package holds: its id is the .desktop
file's, its launchable exists, every screenshot is the published copy of a PNG
of the repository's docs/ (RAW_URL + its path in the repository), and its
newest release is this version.

    tst_metainfo.py METAINFO SOURCE_DIR VERSION APP_ID RAW_URL
"""

import os
import sys
import xml.etree.ElementTree as ET


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def main():
    metainfo, source_dir, version, app_id, raw_url = sys.argv[1:6]
    root = ET.parse(metainfo).getroot()
    check(root.findtext("id") == app_id, "id %s, expected %s" % (root.findtext("id"), app_id))
    launchable = root.findtext("launchable")
    check(launchable == app_id + ".desktop", "launchable: %s" % launchable)
    check(os.path.exists(os.path.join(source_dir, "packaging", launchable)), "no packaging/%s" % launchable)
    images = [i.text for i in root.iter("image")]
    check(images, "no screenshots")
    check(raw_url.startswith("https://") and raw_url.endswith("/"), "raw-file URL %s" % raw_url)
    for url in images:
        check(url.startswith(raw_url), "screenshot %s is not under the repository's %s" % (url, raw_url))
        path = url[len(raw_url):]
        check(path.startswith("docs/") and path.endswith(".png"), "screenshot %s is not a PNG of docs/" % url)
        check(os.path.isfile(os.path.join(source_dir, path)), "screenshot %s: no %s in the repository" % (url, path))
    releases = [(r.get("version"), r.get("date")) for r in root.iter("release")]
    check(releases and releases[0][0] == version, "newest release %s, expected %s" % (releases[:1], version))
    check(all(date for _, date in releases), "every release has a date: %s" % releases)
    check(root.find("content_rating") is not None, "no content rating")
    print("%s: %d screenshots in docs/, release %s of %s" % (app_id, len(images), *releases[0]))


if __name__ == "__main__":
    main()
