package org.comet4j.core;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.logging.Logger;

/**
 * Loads libcomet4j.so once per class loader.  The jar carries one library
 * per supported platform, {@code /native/linux-x86_64/libcomet4j.so} and
 * {@code /native/linux-aarch64/libcomet4j.so}, each self-contained (it needs
 * only glibc 2.34 or newer); {@link #platform} picks one from os.name and
 * os.arch.  The library is copied to a new temp file (a JVM refuses to load
 * one path from two class loaders, which a webapp redeploy needs), loaded
 * with {@link System#load} from this class, whose loader is {@link Native}'s,
 * and the file is deleted at once (the mapping stays).
 *
 * <p>Where the copy goes: the first usable folder of {@code Comet.NativeDir}
 * (the context-param, which {@link CometAppListener} passes to
 * {@link #load(String)}), the system property {@value #PROPERTY} (for use
 * without a servlet container, or one setting for every webapp of a JVM),
 * and {@code java.io.tmpdir}.  A folder that is not writable or is on a
 * mount with noexec (where the library cannot be mapped: "failed to map
 * segment") is skipped with a warning naming it and the folder used
 * instead; if none works, the error names each folder and why.
 *
 * <p>A failure is not kept: every call tries again (a folder may have been
 * fixed), and {@link #ensureLoaded()} throws it with its message.  Loading
 * this class never fails.
 */
final class NativeLoader {

    /** The context-param naming the folder the library is extracted to. */
    static final String PARAM = "Comet.NativeDir";
    /** The same as a system property, for use without a servlet context. */
    static final String PROPERTY = "comet4j.native.dir";
    /** The platforms a library is built for, as the start-up message says. */
    static final String SUPPORTED = "linux-x86_64 and linux-aarch64, with glibc 2.34 or newer"
            + " (Debian 12, Ubuntu 22.04, RHEL 9 and later)";

    private static final Logger LOG = Logger.getLogger("org.comet4j");

    /** The folder the loaded library was extracted to, or null while not loaded. */
    private static String loadedFrom;

    private NativeLoader() {}

    /** Loads the library if needed (system property, then java.io.tmpdir). */
    static void ensureLoaded() {
        load(null);
    }

    /**
     * Loads the library if this class loader has not yet, extracting it to
     * nativeDir (the value of Comet.NativeDir; null or blank: not set), else
     * to the folder of {@value #PROPERTY}, else to java.io.tmpdir.
     * @throws UnsatisfiedLinkError with a message that names the platform or
     *         the folders tried and what to do
     */
    static synchronized void load(String nativeDir) {
        if (loadedFrom != null) {
            return;
        }
        String platform = platform(System.getProperty("os.name", ""),
                System.getProperty("os.arch", ""));
        String resource = resource(platform);
        List<String[]> tried = new ArrayList<>();
        for (String[] c : candidates(nativeDir, System.getProperty(PROPERTY),
                System.getProperty("java.io.tmpdir"))) {
            String problem = tryLoad(resource, platform, Paths.get(c[1]));
            if (problem == null) {
                loadedFrom = c[1];
                if (!tried.isEmpty()) {
                    LOG.warning("comet4j: " + describe(tried) + "; the native library was loaded from "
                            + c[0] + "=" + c[1] + " instead");
                }
                return;
            }
            tried.add(new String[] {c[0], c[1], problem});
        }
        throw new UnsatisfiedLinkError(folderMessage(tried));
    }

    /** The folder the library was loaded from, or null. */
    static synchronized String loadedFrom() {
        return loadedFrom;
    }

    // ---- decisions (no I/O; tested on their own) -------------------------

    /**
     * The library folder for this platform: "linux-x86_64" or
     * "linux-aarch64".
     * @throws UnsatisfiedLinkError naming the platform found, the supported
     *         ones and what to do
     */
    static String platform(String osName, String osArch) {
        String os = osName.toLowerCase(Locale.ROOT).trim();
        String arch = osArch.toLowerCase(Locale.ROOT).trim();
        if (os.equals("linux")) {
            if (arch.equals("amd64") || arch.equals("x86_64")) {
                return "linux-x86_64";
            }
            if (arch.equals("aarch64") || arch.equals("arm64")) {
                return "linux-aarch64";
            }
        }
        throw new UnsatisfiedLinkError(unsupportedMessage(osName, osArch));
    }

    /** The start-up message for a platform with no library in the jar. */
    static String unsupportedMessage(String osName, String osArch) {
        String os = osName.toLowerCase(Locale.ROOT);
        String arch = osArch.toLowerCase(Locale.ROOT);
        String what;
        if (!os.equals("linux")) {
            what = "comet4j's native core runs on Linux only: run the application (Tomcat) on a Linux"
                    + " server; for development on " + (os.isEmpty() ? "this system" : osName)
                    + ", run it in a Linux container or virtual machine (e.g. Docker with a Debian 12"
                    + " or Ubuntu 22.04 image, on the host's architecture)";
        } else if (arch.matches("(i[3-6]86|x86|arm|armv[5-7].*|aarch32|ppc|s390|mips|sparc)")) {
            what = "this is a 32-bit JVM or system: run a 64-bit JVM on a 64-bit x86_64 or aarch64 Linux";
        } else {
            what = "no library is built for this processor architecture: run the application on an"
                    + " x86_64 or aarch64 Linux server";
        }
        return "comet4j: no native library for this platform: found os.name=" + osName + ", os.arch="
                + osArch + "; supported: " + SUPPORTED + ". " + what + ".";
    }

    /** The resource of a platform's library inside the jar. */
    static String resource(String platform) {
        return "/native/" + platform + "/libcomet4j.so";
    }

    /**
     * The folders to try, in order, as {label, path}: Comet.NativeDir, then
     * {@value #PROPERTY}, then java.io.tmpdir; blank ones and repeats left
     * out.
     */
    static List<String[]> candidates(String nativeDir, String propertyDir, String tmpDir) {
        List<String[]> out = new ArrayList<>();
        add(out, PARAM, nativeDir);
        add(out, "-D" + PROPERTY, propertyDir);
        add(out, "java.io.tmpdir", tmpDir);
        return out;
    }

    private static void add(List<String[]> out, String label, String dir) {
        if (dir == null || dir.trim().isEmpty()) {
            return;
        }
        String d = dir.trim();
        for (String[] c : out) {
            if (c[1].equals(d)) {
                return;
            }
        }
        out.add(new String[] {label, d});
    }

    /**
     * The mount point holding path if it is mounted noexec, from the text of
     * /proc/self/mountinfo (the longest mount point that contains path
     * decides); null if it is not, or nothing matches.
     */
    static String noexecMount(String path, List<String> mountinfo) {
        String best = null;
        boolean noexec = false;
        for (String line : mountinfo) {
            String[] f = line.split(" ");
            if (f.length < 6) {
                continue;
            }
            String mp = unescape(f[4]);
            boolean contains = mp.equals("/") || path.equals(mp) || path.startsWith(mp + "/");
            if (contains && (best == null || mp.length() >= best.length())) {
                best = mp;
                noexec = Arrays.asList(f[5].split(",")).contains("noexec");
            }
        }
        return noexec ? best : null;
    }

    /** mountinfo escapes space, tab, newline and backslash as \ooo. */
    private static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (ch == '\\' && i + 3 < s.length() && s.substring(i + 1, i + 4).matches("[0-7]{3}")) {
                b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                b.append(ch);
            }
        }
        return b.toString();
    }

    /** "Comet.NativeDir=/x is on a noexec mount (/x); java.io.tmpdir=/tmp is not writable". */
    static String describe(List<String[]> tried) {
        StringBuilder b = new StringBuilder();
        for (String[] t : tried) {
            if (b.length() > 0) {
                b.append("; ");
            }
            b.append(t[0]).append('=').append(t[1]).append(' ').append(t[2]);
        }
        return b.toString();
    }

    /** The message when no folder worked. */
    static String folderMessage(List<String[]> tried) {
        return "comet4j: the native library cannot be extracted and loaded: "
                + (tried.isEmpty() ? "no folder to extract it to (java.io.tmpdir is not set)" : describe(tried))
                + ". Set the context-param " + PARAM + " (or the system property " + PROPERTY
                + ") to a folder that this JVM can write and that is not on a mount with noexec,"
                + " e.g. a folder under /var/lib, or give java.io.tmpdir such a folder";
    }

    // ---- loading ---------------------------------------------------------

    /**
     * Copies the library into dir and loads it: null on success, else what
     * is wrong with the folder.
     * @throws UnsatisfiedLinkError if the library is missing from the jar or
     *         does not load for another reason than its folder (then no other
     *         folder would help)
     */
    private static String tryLoad(String resource, String platform, Path dir) {
        String problem = folderProblem(dir);
        if (problem != null) {
            return problem;
        }
        Path tmp;
        try (InputStream in = Native.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new UnsatisfiedLinkError("comet4j: " + resource + " is not in this jar (for "
                        + platform + "; class loader " + Native.class.getClassLoader()
                        + "): use a release jar, which carries linux-x86_64 and linux-aarch64");
            }
            try {
                tmp = Files.createTempFile(dir, "libcomet4j-", ".so");
            } catch (IOException | SecurityException e) {
                return "is not writable (" + e + ")";
            }
            try {
                Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException e) {
                deleteQuietly(tmp);
                return "cannot hold the library (" + e + ")";
            }
        } catch (IOException e) {
            throw new UnsatisfiedLinkError("comet4j: cannot read " + resource + " from the jar: " + e);
        }
        try {
            System.load(tmp.toAbsolutePath().toString());
            return null;
        } catch (UnsatisfiedLinkError e) {
            String m = String.valueOf(e.getMessage());
            if (m.contains("failed to map segment")) {
                return "is on a mount with noexec (" + m + ")";
            }
            UnsatisfiedLinkError err = new UnsatisfiedLinkError("comet4j: the native library for "
                    + platform + " does not load: " + m + ". It needs glibc 2.34 or newer ("
                    + SUPPORTED + "); musl systems (Alpine) are not supported");
            err.initCause(e);
            throw err;
        } finally {
            deleteQuietly(tmp);
        }
    }

    /**
     * What makes dir unfit to load a library from, before trying: null if
     * nothing (creating it if missing), else "is not writable", "is on a
     * mount with noexec (...)", ...
     */
    static String folderProblem(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException | SecurityException e) {
            return "does not exist and cannot be created (" + e + ")";
        }
        if (!Files.isDirectory(dir)) {
            return "is not a folder";
        }
        if (!Files.isWritable(dir)) {
            return "is not writable";
        }
        String mount = noexecMountOf(dir);
        if (mount != null) {
            return "is on a mount with noexec (" + mount + "): a library there cannot be mapped";
        }
        return null;
    }

    /** The noexec mount holding dir, from /proc/self/mountinfo; null if none or unknown. */
    private static String noexecMountOf(Path dir) {
        try {
            String real = dir.toRealPath().toString();
            List<String> lines = Files.readAllLines(Paths.get("/proc/self/mountinfo"),
                    StandardCharsets.UTF_8);
            return noexecMount(real, lines);
        } catch (IOException | RuntimeException e) {
            return null; // System.load's "failed to map segment" still tells
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            // a temp file left behind is harmless
        }
    }
}
