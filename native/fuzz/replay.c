/* replay.c - a main() for a libFuzzer target without libFuzzer: runs
 * LLVMFuzzerTestOneInput once on every file named (a directory: each of
 * its files, in name order).  `make test` links each target with it in
 * the sanitized flavour (gcc, ASan + UBSan, build/san/libc4j.a) and
 * replays the seed corpora of fuzz/corpus/, so that every seed, and every
 * crash kept as a seed once fixed, runs on every test run without clang.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);

static int run_file(const char *path) {
  FILE *f = fopen(path, "rb");
  uint8_t *data;
  long n;
  if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0) {
    fprintf(stderr, "replay: cannot read %s\n", path);
    if (f) fclose(f);
    return -1;
  }
  rewind(f);
  /* A copy of exactly n bytes, as libFuzzer gives: ASan sees overreads. */
  data = malloc(n ? (size_t)n : 1);
  if (data == NULL || fread(data, 1, (size_t)n, f) != (size_t)n) {
    fprintf(stderr, "replay: cannot read %s\n", path);
    fclose(f);
    free(data);
    return -1;
  }
  fclose(f);
  LLVMFuzzerTestOneInput(data, (size_t)n);
  free(data);
  return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b) {
  return strcmp((*a)->d_name, (*b)->d_name);
}

int main(int argc, char **argv) {
  int files = 0, failed = 0;
  if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
  for (int i = 1; i < argc; i++) {
    struct stat st;
    if (argv[i][0] == '-') continue; /* libFuzzer's flags */
    if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
      struct dirent **names;
      int n = scandir(argv[i], &names, NULL, by_name);
      for (int k = 0; k < n; k++) {
        char path[4096];
        if (names[k]->d_name[0] != '.') {
          snprintf(path, sizeof(path), "%s/%s", argv[i], names[k]->d_name);
          failed += run_file(path) != 0;
          files++;
        }
        free(names[k]);
      }
      free(names);
      if (n < 0) failed++;
    } else {
      failed += run_file(argv[i]) != 0;
      files++;
    }
  }
  printf("replay: %s: %d inputs\n", argv[0], files);
  return failed != 0;
}
