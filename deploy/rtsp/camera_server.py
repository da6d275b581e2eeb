#!/usr/bin/python3
"""Rollcall RTSP camera stand-in (local stack and tests).

Serves synthetic H.264 "cameras" with GStreamer's RTSP server (GstRtspServer
through PyGObject), so the backend and its tests can read real RTSP streams
without hardware.

Run it with the Debian interpreter, /usr/bin/python3: it needs the
python3-gi, gir1.2-gst-rtsp-server-1.0 and gstreamer1.0-plugins-{base,good,ugly}
packages (a python3 from pyenv/venv usually lacks ``gi``).

Default mounts (port 58554 on 127.0.0.1):

  /cam1    videotestsrc pattern=smpte, 640x480 @ 10 fps, H.264
  /cam2    videotestsrc pattern=ball, 1280x720 @ 10 fps, H.264
  /secure  same as /cam1 but protected by RTSP Basic auth (camuser/campass)

Extra mounts:

  --image-mount /demo=path/to/picture.jpg[@WxH]
        loops a still JPEG as a live 10 fps camera (optionally scaled to WxH;
        without a size the picture's own size is used, rounded down to even
        dimensions by the encoder caps).
  --mounts-json '<json>' | @file.json
        a list of objects {"path": "/x", "pattern": "ball", "width": 640,
        "height": 480, "fps": 10, "image": "/abs/pic.jpg", "auth": false,
        "gop": 10}; "pattern" and "image" are mutually exclusive; "gop" is
        the key-frame interval in frames (default 10; 300 at 10 fps sends a
        key frame every 30 s, like a "smart codec" camera).
  --auth-mount /path      (repeatable) require credentials on that mount too.

Auth detail: an anonymous client may DESCRIBE-resolve the factory (access) but
is denied media construction, so clients such as FFmpeg get a real
``401 Unauthorized`` with a WWW-Authenticate challenge (denying access outright
would answer 404).

Every stream uses ``x264enc tune=zerolatency speed-preset=ultrafast
key-int-max=10 ! rtph264pay config-interval=1``: a short GOP so readers get a
keyframe quickly, and config-interval=1 (not -1, which FFmpeg 5.1 decodes
badly). Factories are shared: all clients of a mount see the same encoder.

Logs go to stdout. Stop with SIGTERM or SIGINT.
"""

import argparse
import json
import os
import signal
import sys
import time

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

ENCODER = (
    "x264enc tune=zerolatency speed-preset=ultrafast key-int-max={gop} "
    "! rtph264pay config-interval=1 name=pay0 pt=96"
)

DEFAULT_MOUNTS = [
    {"path": "/cam1", "pattern": "smpte", "width": 640, "height": 480, "fps": 10},
    {"path": "/cam2", "pattern": "ball", "width": 1280, "height": 720, "fps": 10},
    {"path": "/secure", "pattern": "smpte", "width": 640, "height": 480, "fps": 10, "auth": True},
]


def log(msg):
    print(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} camera_server: {msg}", flush=True)


def quote(value):
    """Quote a value for a gst-launch description."""
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def launch_line(mount):
    fps = int(mount.get("fps", 10))
    width, height = mount.get("width"), mount.get("height")
    if mount.get("image"):
        size = f",width={int(width)},height={int(height)}" if width and height else ""
        src = (
            f"filesrc location={quote(mount['image'])} ! jpegdec ! videoconvert "
            f"! imagefreeze is-live=true ! videoscale ! videorate "
            f"! video/x-raw,format=I420,framerate={fps}/1{size}"
        )
    else:
        pattern = mount.get("pattern", "smpte")
        src = (
            f"videotestsrc is-live=true pattern={pattern} "
            f"! video/x-raw,width={int(width or 640)},height={int(height or 480)},framerate={fps}/1 "
            f"! videoconvert ! video/x-raw,format=I420"
        )
    encoder = ENCODER.format(gop=int(mount.get("gop", 10)))
    return f"( {src} ! {encoder} )"


def parse_image_mount(spec):
    if "=" not in spec:
        raise argparse.ArgumentTypeError(f"--image-mount wants NAME=PATH[@WxH], got {spec!r}")
    name, path = spec.split("=", 1)
    mount = {"path": name if name.startswith("/") else "/" + name}
    if "@" in path:
        base, size = path.rsplit("@", 1)
        if "x" in size and all(p.isdigit() for p in size.split("x", 1)):
            w, h = size.split("x", 1)
            mount["width"], mount["height"] = int(w), int(h)
            path = base
    mount["image"] = os.path.abspath(path)
    return mount


def load_json_mounts(value):
    if value.startswith("@"):
        with open(value[1:], encoding="utf-8") as fh:
            value = fh.read()
    data = json.loads(value)
    if isinstance(data, dict):
        data = [data]
    mounts = []
    for item in data:
        if "path" not in item:
            raise SystemExit(f"mount without 'path': {item!r}")
        item = dict(item)
        if not item["path"].startswith("/"):
            item["path"] = "/" + item["path"]
        if item.get("image"):
            item["image"] = os.path.abspath(item["image"])
        mounts.append(item)
    return mounts


def build_server(args, mounts):
    server = GstRtspServer.RTSPServer()
    server.set_address(args.address)
    server.set_service(str(args.port))

    auth = GstRtspServer.RTSPAuth()
    # Authenticated users get role "user"; anonymous clients get role "anonymous".
    auth.add_basic(GstRtspServer.RTSPAuth.make_basic(args.user, args.password), _token("user"))
    auth.set_default_token(_token("anonymous"))
    server.set_auth(auth)

    mount_points = server.get_mount_points()
    for mount in mounts:
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch(launch_line(mount))
        factory.set_shared(True)
        # Not seekable, as a camera is not (see _not_seekable).
        factory.connect("media-configure", _not_seekable)
        perms = GstRtspServer.RTSPPermissions()
        # Role "user" may always access and construct.
        _allow(perms, "user", access=True, construct=True)
        # Anonymous may resolve the factory; on protected mounts it may not
        # construct the media, which answers 401 + challenge.
        _allow(perms, "anonymous", access=True, construct=not mount.get("auth"))
        factory.set_permissions(perms)
        mount_points.add_factory(mount["path"], factory)
        what = f"image {mount['image']}" if mount.get("image") else f"pattern {mount.get('pattern', 'smpte')}"
        size = f"{mount.get('width', '?')}x{mount.get('height', '?')}" if mount.get("width") else "native size"
        log(
            f"mount rtsp://{args.address}:{args.port}{mount['path']} ({what}, {size}, "
            f"{mount.get('fps', 10)} fps{', auth' if mount.get('auth') else ''})"
        )
    return server


def _not_seekable(_factory, media):
    """Answer that the stream cannot be seeked, as a camera would.

    FFmpeg's PLAY asks for "Range: npt=0.000-". A test source says it can
    seek, so the server would seek the shared pipeline back to 0 for each
    client that joins, and every other client's timestamps would jump back
    (FFmpeg's fps filter then drops frames until they catch up: a reader saw
    2 frames in 10 s while another client came and went every 2 s), and under
    clients that come and go quickly the seek's bookkeeping aborted the whole
    server (GStreamer 1.22: "gst_rtsp_media_get_rates: assertion failed").
    Told the pipeline cannot seek, the server ignores the Range and plays
    from now.
    """
    pay = media.get_element().get_by_name("pay0")
    if pay is None:
        return
    pay.get_static_pad("src").add_probe(Gst.PadProbeType.QUERY_UPSTREAM, _refuse_seeking)


def _refuse_seeking(_pad, info):
    # A query handled here without an answer says "not seekable" (the
    # query's default); PyGObject cannot write into it anyway.
    query = info.get_query()
    if query is not None and query.type == Gst.QueryType.SEEKING:
        return Gst.PadProbeReturn.HANDLED
    return Gst.PadProbeReturn.OK


def _token(role):
    token = GstRtspServer.RTSPToken()
    token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, role)
    return token


def _allow(perms, role, access, construct):
    perms.add_permission_for_role(role, GstRtspServer.RTSP_PERM_MEDIA_FACTORY_ACCESS, bool(access))
    perms.add_permission_for_role(role, GstRtspServer.RTSP_PERM_MEDIA_FACTORY_CONSTRUCT, bool(construct))


def main(argv=None):
    parser = argparse.ArgumentParser(description="RTSP camera stand-in for Rollcall (GStreamer RTSP server).")
    parser.add_argument("--address", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=58554, help="RTSP port (default 58554)")
    parser.add_argument("--user", default="camuser", help="user for protected mounts (default camuser)")
    parser.add_argument("--password", default="campass", help="password for protected mounts (default campass)")
    parser.add_argument("--no-default-mounts", action="store_true", help="serve only the mounts given")
    parser.add_argument(
        "--image-mount", action="append", default=[], type=parse_image_mount, metavar="NAME=PATH[@WxH]",
        help="loop a still JPEG as a camera (repeatable)",
    )
    parser.add_argument(
        "--mounts-json", action="append", default=[], metavar="JSON|@FILE",
        help="extra mounts as a JSON list (or @file); see module docstring",
    )
    parser.add_argument(
        "--auth-mount", action="append", default=[], metavar="PATH",
        help="require credentials on this mount (repeatable; /secure always does)",
    )
    args = parser.parse_args(argv)

    Gst.init(None)
    for element in ("x264enc", "rtph264pay", "videotestsrc", "jpegdec", "imagefreeze"):
        if Gst.ElementFactory.find(element) is None:
            log(f"missing GStreamer element {element!r} (install gstreamer1.0-plugins-base/good/ugly)")
            return 2

    mounts = [] if args.no_default_mounts else [dict(m) for m in DEFAULT_MOUNTS]
    mounts += args.image_mount
    for value in args.mounts_json:
        mounts += load_json_mounts(value)
    for m in mounts:
        if m.get("image") and not os.path.isfile(m["image"]):
            log(f"image for {m['path']} not found: {m['image']}")
            return 2
    auth_paths = {p if p.startswith("/") else "/" + p for p in args.auth_mount}
    by_path = {}
    for m in mounts:  # later definitions of the same path win
        if m["path"] in auth_paths:
            m["auth"] = True
        by_path[m["path"]] = m
    if not by_path:
        log("no mounts configured")
        return 2

    server = build_server(args, list(by_path.values()))
    loop = GLib.MainLoop()
    if server.attach(None) == 0:
        log(f"cannot listen on {args.address}:{args.port}")
        return 1
    log(f"listening on rtsp://{args.address}:{args.port} (pid {os.getpid()})")

    def stop(*_):
        log("stopping")
        loop.quit()

    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, stop)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, stop)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
