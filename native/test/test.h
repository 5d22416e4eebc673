/* test.h - the few macros the native unit tests share: checks that count
 * and report, and a main that prints "N passed, N failed".  Each test file
 * defines its cases with TEST(name) and lists them in TEST_MAIN(...).
 */
#ifndef C4J_TEST_H
#define C4J_TEST_H

#include <stdio.h>
#include <string.h>

static int test_failed_checks;

#define CHECK(cond)                                                         \
  do {                                                                      \
    if (!(cond)) {                                                          \
      fprintf(stderr, "  %s:%d: check failed: %s\n", __FILE__, __LINE__,    \
              #cond);                                                       \
      test_failed_checks++;                                                 \
    }                                                                       \
  } while (0)

#define CHECK_EQ(a, b)                                                      \
  do {                                                                      \
    long long a_ = (long long)(a), b_ = (long long)(b);                    \
    if (a_ != b_) {                                                         \
      fprintf(stderr, "  %s:%d: %s == %s failed: %lld != %lld\n", __FILE__, \
              __LINE__, #a, #b, a_, b_);                                    \
      test_failed_checks++;                                                 \
    }                                                                       \
  } while (0)

#define CHECK_STR(a, b)                                                     \
  do {                                                                      \
    const char *a_ = (a), *b_ = (b);                                        \
    if (strcmp(a_, b_) != 0) {                                              \
      fprintf(stderr, "  %s:%d: %s == %s failed: \"%s\" != \"%s\"\n",       \
              __FILE__, __LINE__, #a, #b, a_, b_);                          \
      test_failed_checks++;                                                 \
    }                                                                       \
  } while (0)

#define TEST(name) static void name(void)

typedef void (*test_fn)(void);
typedef struct { const char *name; test_fn fn; } test_case_t;
#define T(name) { #name, name }

#define TEST_MAIN(...)                                                      \
  int main(void) { TEST_MAIN_BODY(__VA_ARGS__); }

/* The body of TEST_MAIN, for a test with a main of its own. */
#define TEST_MAIN_BODY(...)                                                 \
  do {                                                                      \
    test_case_t cases[] = { __VA_ARGS__ };                                  \
    int pass = 0, fail = 0;                                                 \
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {        \
      int before = test_failed_checks;                                      \
      cases[i].fn();                                                        \
      if (test_failed_checks == before) { pass++; }                         \
      else { fail++; fprintf(stderr, "FAIL %s\n", cases[i].name); }         \
    }                                                                       \
    printf("%s: %d passed, %d failed\n", __FILE__, pass, fail);             \
    return fail ? 1 : 0;                                                    \
  } while (0)

#endif /* C4J_TEST_H */
