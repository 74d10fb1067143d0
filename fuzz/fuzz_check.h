// FUZZ_CHECK: a property a fuzz target asserts; a violation aborts so libFuzzer saves the input.
//
//   FUZZ_CHECK(reparsed, "written JSON must parse");
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond, what)                                               \
  do {                                                                       \
    if (!(cond)) {                                                           \
      std::fprintf(stderr, "%s:%d: fuzz property failed: %s\n", __FILE__, __LINE__, what); \
      std::abort();                                                          \
    }                                                                        \
  } while (false)
