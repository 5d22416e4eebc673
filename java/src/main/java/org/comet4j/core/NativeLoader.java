package org.comet4j.core;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * Loads libcomet4j.so once per class loader.  The library travels inside the
 * jar at {@value #RESOURCE}; it is copied to a new temp file (a JVM refuses
 * to load one path from two class loaders, which a webapp redeploy needs),
 * loaded with {@link System#load} from this class, whose loader is
 * {@link Native}'s, and the file is deleted at once.  A failure is kept and
 * rethrown with a clear message by {@link #ensureLoaded()} on every use, so
 * loading this class never fails.
 */
final class NativeLoader {

    static final String RESOURCE = "/native/linux-x86_64/libcomet4j.so";

    private static final Throwable LOAD_ERROR = load();

    private NativeLoader() {}

    /** Returns if the library is loaded; otherwise throws, with the cause. */
    static void ensureLoaded() {
        if (LOAD_ERROR != null) {
            UnsatisfiedLinkError e = new UnsatisfiedLinkError(
                    "comet4j: the native library could not be loaded: " + LOAD_ERROR);
            e.initCause(LOAD_ERROR);
            throw e;
        }
    }

    private static Throwable load() {
        try {
            String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
            String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
            if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
                throw new UnsatisfiedLinkError("comet4j-native runs on linux-x86_64 only, not "
                        + os + "-" + arch);
            }
            File tmp;
            try (InputStream in = Native.class.getResourceAsStream(RESOURCE)) {
                if (in == null) {
                    throw new UnsatisfiedLinkError(RESOURCE + " not found on the class path of "
                            + Native.class.getClassLoader());
                }
                tmp = File.createTempFile("libcomet4j-", ".so");
                try {
                    Files.copy(in, tmp.toPath(), StandardCopyOption.REPLACE_EXISTING);
                } catch (IOException e) {
                    tmp.delete();
                    throw e;
                }
            }
            try {
                System.load(tmp.getAbsolutePath());
            } finally {
                tmp.delete(); // the mapping stays valid after the unlink
            }
            return null;
        } catch (Throwable t) {
            return t;
        }
    }
}
