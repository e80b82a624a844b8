# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_pixgrab_global_optspecs
    string join \n demo demo-count= o/out= page= from-clipboard queue autorun-screenshot= autorun-sort= h/help V/version
end

function __fish_pixgrab_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_pixgrab_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_pixgrab_using_subcommand
    set -l cmd (__fish_pixgrab_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c pixgrab -n "__fish_pixgrab_needs_command" -l demo-count -d 'Number of sample images for --demo' -r
complete -c pixgrab -n "__fish_pixgrab_needs_command" -s o -l out -d 'Output folder for this session (default: the one chosen last time)' -r -F
complete -c pixgrab -n "__fish_pixgrab_needs_command" -l page -d 'A page whose images to pick from (as "Find images" does); repeatable. Goes to the window already running if there is one' -r
complete -c pixgrab -n "__fish_pixgrab_needs_command" -l autorun-screenshot -d 'Press Download at once; when all items finish, save a screenshot to FILE and exit' -r -F
complete -c pixgrab -n "__fish_pixgrab_needs_command" -l autorun-sort -d 'With --autorun-screenshot: once half the items are done, sort the gallery by this (name, size, pixels, host) and show only downloaded ones (the frame-time benchmark of a sort and filter switched mid-run)' -r
complete -c pixgrab -n "__fish_pixgrab_needs_command" -l demo -d 'Serve sample images from this computer and fill the URL box with them'
complete -c pixgrab -n "__fish_pixgrab_needs_command" -l from-clipboard -d 'Add the image URLs on the clipboard, as if given here'
complete -c pixgrab -n "__fish_pixgrab_needs_command" -l queue -d 'Queue the URLs at once instead of leaving them in the URL box to check first'
complete -c pixgrab -n "__fish_pixgrab_needs_command" -s h -l help -d 'Print help'
complete -c pixgrab -n "__fish_pixgrab_needs_command" -s V -l version -d 'Print version'
complete -c pixgrab -n "__fish_pixgrab_needs_command" -a "get" -d 'Download images without a window'
complete -c pixgrab -n "__fish_pixgrab_needs_command" -a "thumbs" -d 'Make thumbnails of image files already on disk'
complete -c pixgrab -n "__fish_pixgrab_needs_command" -a "export" -d 'Write an output folder\'s library (every item and its state) as CSV or JSON'
complete -c pixgrab -n "__fish_pixgrab_needs_command" -a "find" -d 'List a page\'s images with their pixel sizes, types and bytes, fetching only the first bytes of each'
complete -c pixgrab -n "__fish_pixgrab_needs_command" -a "similar" -d 'Groups of near-duplicate images (resized, recompressed, lightly cropped) in an output folder'
complete -c pixgrab -n "__fish_pixgrab_needs_command" -a "install-browser-host" -d 'Write the manifests that let the Pixgrab browser extension talk to this pixgrab (Chromium, Chrome, Brave, Edge, Firefox), in your configuration'
complete -c pixgrab -n "__fish_pixgrab_needs_command" -a "native-host" -d 'Speak the browsers\' native-messaging protocol on stdin/stdout (the browser starts this itself; see `install-browser-host`)'
complete -c pixgrab -n "__fish_pixgrab_needs_command" -a "package-assets" -d 'Write the man pages and shell completions (bash, zsh, fish) into DIR (for packagers; `assets/generated/` holds the current ones)'
complete -c pixgrab -n "__fish_pixgrab_needs_command" -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pixgrab -n "__fish_pixgrab_using_subcommand get" -s i -l input -d 'Read URLs from a text or HTML file (\'-\' for stdin); repeatable' -r -F
complete -c pixgrab -n "__fish_pixgrab_using_subcommand get" -s o -l out -d 'Output folder (created if missing)' -r -F
complete -c pixgrab -n "__fish_pixgrab_using_subcommand get" -s j -l jobs -d 'Concurrent downloads in all' -r
complete -c pixgrab -n "__fish_pixgrab_using_subcommand get" -l per-host -d 'Concurrent downloads per host, fixed. Without it each host\'s limit adapts: it starts at 4, grows while the host answers quickly (up to 16, or 48 streams over HTTP/2) and shrinks at once on 429/503, resets, timeouts or slow answers' -r
complete -c pixgrab -n "__fish_pixgrab_using_subcommand get" -l name -d 'How to name the files: fields {name} {ext} {host} {num} {num:03} {page} {date} {sha8} {width} {height}; \'/\' makes subfolders, e.g. "{host}/{num:03}-{name}.{ext}". Checked before any request: an unknown field, \'..\' or an absolute path is refused' -r
complete -c pixgrab -n "__fish_pixgrab_using_subcommand get" -l limit-rate -d 'Overall bandwidth limit, e.g. 500k, 2M, 1.5M (bytes per second)' -r
complete -c pixgrab -n "__fish_pixgrab_using_subcommand get" -l host-interval-ms -d 'Least time between two requests to the same host, in milliseconds (politeness)' -r
complete -c pixgrab -n "__fish_pixgrab_using_subcommand get" -l page -d 'A web page whose images to download: what gallery-dl lists for it when it knows the site (see --gallery-dl), else what its HTML shows (img, srcset, links to images, og:image, noscript, JSON-LD, style backgrounds); repeatable. Each image gets the page as its Referer (see --referer-policy)' -r
complete -c pixgrab -n "__fish_pixgrab_using_subcommand get" -l min-size -d 'With --page: download the largest variant of each picture on the page, and only if it is at least this large, e.g. 800x600. Each image is probed for its first bytes first; one whose size cannot be learned is left out (and counted). Not with --watch' -r
complete -c pixgrab -n "__fish_pixgrab_using_subcommand get" -l watch -d 'With --page: keep running and read each page again every INTERVAL (10m, 1h, 1d: a unit is needed; at least 1m, give or take a tenth), downloading only images it shows for the first time (the largest variant of each picture). A page that fails is tried again later and later (up to a day). Watches are kept in the folder\'s library: the window goes on with them, and so does any later `get --watch` on that folder. Not with --min-size (a watch keeps no size filter). Ctrl+C stops' -r
complete -c pixgrab -n "__fish_pixgrab_using_subcommand get" -s H -l header -d 'An extra request header, "Name: value", for the hosts of the given URLs and pages only (never other hosts a page names); "HOST=Name: value" for one host. Repeatable' -r
complete -c pixgrab -n "__fish_pixgrab_using_subcommand get" -l referer -d 'The Referer to send, for the hosts of the given URLs and pages; "HOST=URL" for one host' -r
complete -c pixgrab -n "__fish_pixgrab_using_subcommand get" -l user-agent -d 'The User-Agent to send to every host' -r
complete -c pixgrab -n "__fish_pixgrab_using_subcommand get" -l cookies -d 'Cookies from a Netscape cookies.txt (as browsers export it); each is sent only to the hosts its domain matches' -r -F
complete -c pixgrab -n "__fish_pixgrab_using_subcommand get" -l proxy -d 'Proxy for every request: http://HOST:PORT, https://... or socks5://...' -r
complete -c pixgrab -n "__fish_pixgrab_using_subcommand get" -l referer-policy -d 'How much of a page\'s URL its images get as Referer: strict-origin-when-cross-origin (the browsers\' default: the origin only for other hosts, nothing from https to http), no-referrer, origin, same-origin, unsafe-url, ...' -r
complete -c pixgrab -n "__fish_pixgrab_using_subcommand get" -l gallery-dl -d 'The gallery-dl program to ask first for the images of a page it knows (300+ sites); by default `gallery-dl` on PATH when it is there' -r -F
complete -c pixgrab -n "__fish_pixgrab_using_subcommand get" -l timeout -d 'Seconds without a byte after which an attempt counts as stalled' -r
complete -c pixgrab -n "__fish_pixgrab_using_subcommand get" -l retries -d 'Further attempts after a failure that may pass (5xx, 429, resets; a stall is retried at most once)' -r
complete -c pixgrab -n "__fish_pixgrab_using_subcommand get" -l json -d 'Print one JSON object per event on stdout instead of the progress display'
complete -c pixgrab -n "__fish_pixgrab_using_subcommand get" -l fsync -d 'Flush every file to disk before it gets its final name (survives power loss; slower)'
complete -c pixgrab -n "__fish_pixgrab_using_subcommand get" -l no-gallery-dl -d 'Read every page\'s HTML; never ask gallery-dl'
complete -c pixgrab -n "__fish_pixgrab_using_subcommand get" -l allow-private -d 'Let a page\'s images (and their redirects) go to private addresses (127.0.0.1, 192.168.x.x, 169.254.x.x, fd00::/8 ...) although the page is not on one'
complete -c pixgrab -n "__fish_pixgrab_using_subcommand get" -s h -l help -d 'Print help'
complete -c pixgrab -n "__fish_pixgrab_using_subcommand thumbs" -s o -l out -d 'Output folder (created if missing)' -r -F
complete -c pixgrab -n "__fish_pixgrab_using_subcommand thumbs" -l size -d 'Longest side of each thumbnail, in pixels' -r
complete -c pixgrab -n "__fish_pixgrab_using_subcommand thumbs" -s h -l help -d 'Print help'
complete -c pixgrab -n "__fish_pixgrab_using_subcommand export" -s o -l out -d 'The output folder whose library to export' -r -F
complete -c pixgrab -n "__fish_pixgrab_using_subcommand export" -l to -d 'Write here instead of standard output' -r -F
complete -c pixgrab -n "__fish_pixgrab_using_subcommand export" -l json -d 'JSON (an array of objects) instead of CSV'
complete -c pixgrab -n "__fish_pixgrab_using_subcommand export" -s h -l help -d 'Print help'
complete -c pixgrab -n "__fish_pixgrab_using_subcommand find" -l min-size -d 'List only images known to be at least this large, e.g. 800x600 (stderr counts the smaller ones and those of unknown size)' -r
complete -c pixgrab -n "__fish_pixgrab_using_subcommand find" -s H -l header -d 'An extra request header, "Name: value", for the hosts of the given URLs and pages only (never other hosts a page names); "HOST=Name: value" for one host. Repeatable' -r
complete -c pixgrab -n "__fish_pixgrab_using_subcommand find" -l referer -d 'The Referer to send, for the hosts of the given URLs and pages; "HOST=URL" for one host' -r
complete -c pixgrab -n "__fish_pixgrab_using_subcommand find" -l user-agent -d 'The User-Agent to send to every host' -r
complete -c pixgrab -n "__fish_pixgrab_using_subcommand find" -l cookies -d 'Cookies from a Netscape cookies.txt (as browsers export it); each is sent only to the hosts its domain matches' -r -F
complete -c pixgrab -n "__fish_pixgrab_using_subcommand find" -l proxy -d 'Proxy for every request: http://HOST:PORT, https://... or socks5://...' -r
complete -c pixgrab -n "__fish_pixgrab_using_subcommand find" -l referer-policy -d 'How much of a page\'s URL its images get as Referer: strict-origin-when-cross-origin (the browsers\' default: the origin only for other hosts, nothing from https to http), no-referrer, origin, same-origin, unsafe-url, ...' -r
complete -c pixgrab -n "__fish_pixgrab_using_subcommand find" -l gallery-dl -d 'The gallery-dl program to ask first for the images of a page it knows (300+ sites); by default `gallery-dl` on PATH when it is there' -r -F
complete -c pixgrab -n "__fish_pixgrab_using_subcommand find" -l json -d 'One JSON object per image on stdout: url, width, height, bytes, type, found, page (and error when the probe learned nothing)'
complete -c pixgrab -n "__fish_pixgrab_using_subcommand find" -l no-gallery-dl -d 'Read every page\'s HTML; never ask gallery-dl'
complete -c pixgrab -n "__fish_pixgrab_using_subcommand find" -l allow-private -d 'Let a page\'s images (and their redirects) go to private addresses (127.0.0.1, 192.168.x.x, 169.254.x.x, fd00::/8 ...) although the page is not on one'
complete -c pixgrab -n "__fish_pixgrab_using_subcommand find" -s h -l help -d 'Print help'
complete -c pixgrab -n "__fish_pixgrab_using_subcommand similar" -s o -l out -d 'The output folder whose images to compare' -r -F
complete -c pixgrab -n "__fish_pixgrab_using_subcommand similar" -l json -d 'One JSON object per group: {"group": N, "files": [paths relative to DIR]}'
complete -c pixgrab -n "__fish_pixgrab_using_subcommand similar" -s h -l help -d 'Print help'
complete -c pixgrab -n "__fish_pixgrab_using_subcommand install-browser-host" -l uninstall -d 'Remove the manifests instead'
complete -c pixgrab -n "__fish_pixgrab_using_subcommand install-browser-host" -s h -l help -d 'Print help'
complete -c pixgrab -n "__fish_pixgrab_using_subcommand native-host" -s h -l help -d 'Print help'
complete -c pixgrab -n "__fish_pixgrab_using_subcommand package-assets" -s h -l help -d 'Print help'
complete -c pixgrab -n "__fish_pixgrab_using_subcommand help; and not __fish_seen_subcommand_from get thumbs export find similar install-browser-host native-host package-assets help" -f -a "get" -d 'Download images without a window'
complete -c pixgrab -n "__fish_pixgrab_using_subcommand help; and not __fish_seen_subcommand_from get thumbs export find similar install-browser-host native-host package-assets help" -f -a "thumbs" -d 'Make thumbnails of image files already on disk'
complete -c pixgrab -n "__fish_pixgrab_using_subcommand help; and not __fish_seen_subcommand_from get thumbs export find similar install-browser-host native-host package-assets help" -f -a "export" -d 'Write an output folder\'s library (every item and its state) as CSV or JSON'
complete -c pixgrab -n "__fish_pixgrab_using_subcommand help; and not __fish_seen_subcommand_from get thumbs export find similar install-browser-host native-host package-assets help" -f -a "find" -d 'List a page\'s images with their pixel sizes, types and bytes, fetching only the first bytes of each'
complete -c pixgrab -n "__fish_pixgrab_using_subcommand help; and not __fish_seen_subcommand_from get thumbs export find similar install-browser-host native-host package-assets help" -f -a "similar" -d 'Groups of near-duplicate images (resized, recompressed, lightly cropped) in an output folder'
complete -c pixgrab -n "__fish_pixgrab_using_subcommand help; and not __fish_seen_subcommand_from get thumbs export find similar install-browser-host native-host package-assets help" -f -a "install-browser-host" -d 'Write the manifests that let the Pixgrab browser extension talk to this pixgrab (Chromium, Chrome, Brave, Edge, Firefox), in your configuration'
complete -c pixgrab -n "__fish_pixgrab_using_subcommand help; and not __fish_seen_subcommand_from get thumbs export find similar install-browser-host native-host package-assets help" -f -a "native-host" -d 'Speak the browsers\' native-messaging protocol on stdin/stdout (the browser starts this itself; see `install-browser-host`)'
complete -c pixgrab -n "__fish_pixgrab_using_subcommand help; and not __fish_seen_subcommand_from get thumbs export find similar install-browser-host native-host package-assets help" -f -a "package-assets" -d 'Write the man pages and shell completions (bash, zsh, fish) into DIR (for packagers; `assets/generated/` holds the current ones)'
complete -c pixgrab -n "__fish_pixgrab_using_subcommand help; and not __fish_seen_subcommand_from get thumbs export find similar install-browser-host native-host package-assets help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
