#include "mlsys/core/strings.h"

#include <gtest/gtest.h>

#include <vector>

namespace mlsys {
namespace {

TEST(EditDistance, CountsInsertDeleteSubstitute) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("bandwidth", "bandwdth"), 1u);
}

TEST(EditDistance, AdjacentSwapCostsOne) {
  EXPECT_EQ(edit_distance("latency", "latnecy"), 1u);
  EXPECT_EQ(edit_distance("ab", "ba"), 1u);
}

TEST(ClosestMatch, FindsPlausibleTypo) {
  const std::vector<std::string> keys = {"bandwidth", "latency", "topology"};
  EXPECT_EQ(closest_match("bandwdth", keys), "bandwidth");
  EXPECT_EQ(closest_match("Latency", keys), "latency");
}

TEST(ClosestMatch, RejectsDistantWords) {
  const std::vector<std::string> keys = {"bandwidth", "latency"};
  EXPECT_FALSE(closest_match("seed", keys).has_value());
  EXPECT_FALSE(closest_match("x", std::vector<std::string>{}).has_value());
}

TEST(ClosestMatch, TiesGoToEarliestCandidate) {
  const std::vector<std::string> keys = {"abd", "abe"};
  EXPECT_EQ(closest_match("abc", keys), "abd");
}

TEST(DidYouMean, FormatsHintOrNothing) {
  const std::vector<std::string> keys = {"npus_count"};
  EXPECT_EQ(did_you_mean("npu_count", keys), "did you mean 'npus_count'?");
  EXPECT_EQ(did_you_mean("zzz", keys), "");
}

TEST(Join, SeparatesItems) {
  EXPECT_EQ(join(std::vector<std::string>{"a", "b", "c"}, ", "), "a, b, c");
  EXPECT_EQ(join(std::vector<std::string>{}, ", "), "");
}

TEST(FormatShortest, RoundTripsAndStaysShort) {
  EXPECT_EQ(format_shortest(0.1), "0.1");
  EXPECT_EQ(format_shortest(5.0), "5");
  EXPECT_EQ(format_shortest(1e20), "1e+20");
  EXPECT_EQ(format_shortest(-2.5), "-2.5");
}

TEST(TrimBlanks, RemovesSpacesAndTabsOnly) {
  EXPECT_EQ(trim_blanks(" \t x y \t"), "x y");
  EXPECT_EQ(trim_blanks("\nx"), "\nx");
}

}  // namespace
}  // namespace mlsys
