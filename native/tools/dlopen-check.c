/* dlopen-check.c - loads a built libcomet4j.so as the JVM's System.load
 * does (dlopen, every symbol bound now) and finds JNI_OnLoad: for the cross
 * build, run under qemu-user, where no JVM of that architecture is at hand.
 * Prints one line; exits 1 if the library does not load. */
#include <dlfcn.h>
#include <stdio.h>

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s LIBRARY\n", argv[0]);
    return 2;
  }
  void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (h == NULL) {
    fprintf(stderr, "dlopen-check: %s\n", dlerror());
    return 1;
  }
  if (dlsym(h, "JNI_OnLoad") == NULL || dlsym(h, "JNI_OnUnload") == NULL) {
    fprintf(stderr, "dlopen-check: %s: no JNI_OnLoad/JNI_OnUnload\n", argv[1]);
    return 1;
  }
  /* The core's own names stay inside (tools/jni.map). */
  if (dlsym(h, "uv_run") != NULL || dlsym(h, "c4j_engine_new") != NULL ||
      dlsym(h, "json_loads") != NULL) {
    fprintf(stderr, "dlopen-check: %s exports more than JNI_On*\n", argv[1]);
    return 1;
  }
  printf("dlopen-check: %s: loads, JNI_OnLoad and JNI_OnUnload found, nothing else\n",
         argv[1]);
  return dlclose(h) == 0 ? 0 : 1;
}
