package org.comet4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * NativeLoader's decisions: the platform from os.name/os.arch and the
 * message for any other, the folders tried and their order, noexec read
 * from mountinfo, the messages naming the folders. The real read-only and
 * noexec mounts (in a mount namespace, as root) are tests/e2e/native.test.mjs.
 */
class NativeLoaderTest {

    @Test
    void linuxX8664AndAarch64HaveALibrary() {
        assertEquals("linux-x86_64", NativeLoader.platform("Linux", "amd64"));
        assertEquals("linux-x86_64", NativeLoader.platform("Linux", "x86_64"));
        assertEquals("linux-aarch64", NativeLoader.platform("Linux", "aarch64"));
        assertEquals("linux-aarch64", NativeLoader.platform("Linux", "arm64"));
        assertEquals("/native/linux-aarch64/libcomet4j.so", NativeLoader.resource("linux-aarch64"));
    }

    private static String refused(String os, String arch) {
        UnsatisfiedLinkError e = assertThrows(UnsatisfiedLinkError.class,
                () -> NativeLoader.platform(os, arch));
        String m = e.getMessage();
        assertTrue(m.contains("os.name=" + os + ", os.arch=" + arch), m);
        assertTrue(m.contains("supported: linux-x86_64 and linux-aarch64, with glibc 2.34 or newer"), m);
        return m;
    }

    @Test
    void macOsAndWindowsAreNamedWithWhatToDo() {
        String mac = refused("Mac OS X", "aarch64");
        assertTrue(mac.contains("runs on Linux only") && mac.contains("for development on Mac OS X")
                && mac.contains("Linux container or virtual machine"), mac);
        String win = refused("Windows 11", "amd64");
        assertTrue(win.contains("for development on Windows 11"), win);
        refused("FreeBSD", "amd64");
    }

    @Test
    void thirtyTwoBitAndOtherArchitecturesAreNamed() {
        for (String arch : Arrays.asList("x86", "i386", "arm", "armv7l")) {
            String m = refused("Linux", arch);
            assertTrue(m.contains("32-bit JVM") && m.contains("64-bit JVM"), m);
        }
        for (String arch : Arrays.asList("riscv64", "ppc64le", "s390x")) {
            String m = refused("Linux", arch);
            assertTrue(m.contains("no library is built for this processor architecture"), m);
        }
    }

    @Test
    void foldersInOrderWithoutBlanksOrRepeats() {
        List<String[]> c = NativeLoader.candidates("/srv/native", "/opt/n", "/tmp");
        assertEquals(3, c.size());
        assertEquals("Comet.NativeDir", c.get(0)[0]);
        assertEquals("/srv/native", c.get(0)[1]);
        assertEquals("-Dcomet4j.native.dir", c.get(1)[0]);
        assertEquals("java.io.tmpdir", c.get(2)[0]);
        c = NativeLoader.candidates("  ", null, "/tmp");
        assertEquals(1, c.size());
        assertEquals("/tmp", c.get(0)[1]);
        c = NativeLoader.candidates("/tmp", null, "/tmp");
        assertEquals(1, c.size());
        assertEquals("Comet.NativeDir", c.get(0)[0]);
    }

    @Test
    void noexecIsReadFromTheLongestMountPoint() {
        List<String> mi = Arrays.asList(
                "22 1 0:21 / / rw,relatime shared:1 - ext4 /dev/vda rw",
                "30 22 0:25 / /tmp rw,nosuid,nodev shared:5 - tmpfs tmpfs rw",
                "31 30 0:26 / /tmp/nx rw,nosuid,nodev,noexec,relatime - tmpfs tmpfs rw",
                "32 31 0:27 / /tmp/nx/ok rw,relatime - tmpfs tmpfs rw",
                "33 22 0:28 / /mnt/with\\040space rw,noexec - tmpfs tmpfs rw",
                "short line");
        assertNull(NativeLoader.noexecMount("/tmp", mi));
        assertNull(NativeLoader.noexecMount("/tmp/nxx", mi));
        assertEquals("/tmp/nx", NativeLoader.noexecMount("/tmp/nx", mi));
        assertEquals("/tmp/nx", NativeLoader.noexecMount("/tmp/nx/lib", mi));
        assertNull(NativeLoader.noexecMount("/tmp/nx/ok/lib", mi));
        assertEquals("/mnt/with space", NativeLoader.noexecMount("/mnt/with space/x", mi));
        assertNull(NativeLoader.noexecMount("/var", mi));
    }

    @Test
    void theMessageNamesEveryFolderAndWhatToDo() {
        String m = NativeLoader.folderMessage(Arrays.asList(
                new String[] {"Comet.NativeDir", "/srv/nx", "is on a mount with noexec (/srv/nx)"},
                new String[] {"java.io.tmpdir", "/tmp", "is not writable"}));
        assertTrue(m.contains("Comet.NativeDir=/srv/nx is on a mount with noexec (/srv/nx); "
                + "java.io.tmpdir=/tmp is not writable"), m);
        assertTrue(m.contains("Set the context-param Comet.NativeDir (or the system property "
                + "comet4j.native.dir) to a folder that this JVM can write and that is not on a mount"
                + " with noexec"), m);
    }

    @Test
    void aFileOrAPathUnderAFileIsNoFolder(@TempDir Path tmp) throws Exception {
        Path file = Files.createFile(tmp.resolve("file"));
        assertNotNull(NativeLoader.folderProblem(file));
        String under = NativeLoader.folderProblem(file.resolve("sub"));
        assertTrue(under.startsWith("does not exist and cannot be created"), under);
        assertNull(NativeLoader.folderProblem(tmp.resolve("new/folder")));
        assertTrue(Files.isDirectory(tmp.resolve("new/folder")));
    }

    @Test
    void thisJvmLoadedTheLibraryOnceFromAWritableFolder() {
        NativeLoader.ensureLoaded();
        String from = NativeLoader.loadedFrom();
        assertNotNull(from);
        // Loaded: another folder changes nothing, and is not even looked at.
        NativeLoader.load("/proc/not-a-folder-for-libraries");
        assertEquals(from, NativeLoader.loadedFrom());
    }
}
