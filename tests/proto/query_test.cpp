#include "proto/query.hpp"

#include <gtest/gtest.h>

namespace hostprint::proto {
namespace {

template <typename T>
T expect_query(Endpoint endpoint, std::string_view target) {
  auto result = parse_query(endpoint, target);
  if (auto* e = std::get_if<ApiError>(&result)) {
    ADD_FAILURE() << target << ": " << e->message << " / " << e->description;
    return T{};
  }
  auto* q = std::get_if<T>(&std::get<Query>(result));
  if (!q) {
    ADD_FAILURE() << target << ": wrong query type";
    return T{};
  }
  return *q;
}

ApiError expect_error(Endpoint endpoint, std::string_view target) {
  auto result = parse_query(endpoint, target);
  auto* e = std::get_if<ApiError>(&result);
  if (!e) {
    ADD_FAILURE() << target << ": accepted";
    return {};
  }
  return *e;
}

TEST(PercentDecode, DecodesEscapesAndKeepsPlus) {
  EXPECT_EQ(percent_decode("a%20b"), "a b");
  EXPECT_EQ(percent_decode("%2Fusr%2fbin"), "/usr/bin");
  EXPECT_EQ(percent_decode("a+b"), "a+b");
  EXPECT_EQ(percent_decode("a%2Bb+c"), "a+b+c");
  EXPECT_EQ(percent_decode("%25"), "%");
  EXPECT_EQ(percent_decode("%2525"), "%25");  // decoded once
  EXPECT_EQ(percent_decode("%E4%B8%AD"), "\xE4\xB8\xAD");
  EXPECT_EQ(percent_decode(""), "");
}

TEST(PercentDecode, RefusesMalformedEscapes) {
  for (auto bad : {"%", "%2", "%zz", "%g0", "abc%", "%%41", "a%2"})
    EXPECT_FALSE(percent_decode(bad).has_value()) << bad;
}

TEST(PercentDecode, RefusesNulAndInvalidUtf8) {
  EXPECT_FALSE(percent_decode("a%00b").has_value());
  EXPECT_FALSE(percent_decode(std::string_view("a\0b", 3)).has_value());
  EXPECT_FALSE(percent_decode("%FF").has_value());
  EXPECT_FALSE(percent_decode("%C0%AF").has_value());        // overlong '/'
  EXPECT_FALSE(percent_decode("%ED%A0%80").has_value());     // surrogate
  EXPECT_FALSE(percent_decode("%F4%90%80%80").has_value());  // past U+10FFFF
  EXPECT_FALSE(percent_decode("%E4%B8").has_value());        // cut sequence
  EXPECT_TRUE(percent_decode("%F0%9F%98%80").has_value());   // an emoji is fine
}

TEST(Utf8Length, CountsCodePoints) {
  EXPECT_EQ(utf8_length("abc"), 3u);
  EXPECT_EQ(utf8_length("\xE4\xB8\xAD\xE6\x96\x87"), 2u);
}

TEST(MatchPath, KnownPaths) {
  auto m = match_path("/v5/p1/asset/statistics?category=host");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->endpoint, Endpoint::asset_statistics);
  EXPECT_EQ(m->project_id, "p1");
  EXPECT_FALSE(m->error);
  EXPECT_EQ(match_path("/v5/p1/asset/process/statistics")->endpoint, Endpoint::process_statistics);
  EXPECT_EQ(match_path("/v5/p1/rasp/statistics")->endpoint, Endpoint::rasp_statistics);
  EXPECT_EQ(match_path("/status")->endpoint, Endpoint::status);
}

TEST(MatchPath, UnknownPaths) {
  for (auto target :
       {"/", "/v5", "/v5/", "/v5/p1", "/v5/p1/asset", "/v5/p1/asset/statistics/",
        "/v4/p1/asset/statistics", "/v5/p1/asset/Statistics", "//v5/p1/asset/statistics",
        "http://h/v5/p1/asset/statistics", "/v5/p1/x/asset/statistics", "*"})
    EXPECT_FALSE(match_path(target)) << target;
}

TEST(MatchPath, ProjectIdIsDecodedAndBounded) {
  EXPECT_EQ(match_path("/v5/my%20project/asset/statistics")->project_id, "my project");
  EXPECT_TRUE(match_path("/v5//asset/statistics")->error);
  EXPECT_TRUE(match_path("/v5/%zz/asset/statistics")->error);
  EXPECT_TRUE(match_path("/v5/a%00/asset/statistics")->error);
  std::string max(256, 'p'), over(257, 'p');
  EXPECT_FALSE(match_path("/v5/" + max + "/asset/statistics")->error);
  auto m = match_path("/v5/" + over + "/asset/statistics");
  ASSERT_TRUE(m->error);
  EXPECT_EQ(m->error->status, 400);
  EXPECT_EQ(m->error->message, "invalid parameter: project_id");
  // 256 characters of three bytes each still fit.
  std::string wide;
  for (int i = 0; i < 256; ++i) wide += "%E4%B8%AD";
  EXPECT_FALSE(match_path("/v5/" + wide + "/asset/statistics")->error);
}

TEST(AssetQuery, Defaults) {
  auto q = expect_query<AssetStatisticsQuery>(Endpoint::asset_statistics, "/v5/p/asset/statistics");
  EXPECT_EQ(q.category, Category::host);
  EXPECT_FALSE(q.host_id);
  EXPECT_FALSE(q.enterprise_project_id);
}

TEST(AssetQuery, Values) {
  auto q = expect_query<AssetStatisticsQuery>(
      Endpoint::asset_statistics,
      "/v5/p/asset/"
      "statistics?category=container&host_id=h%2D1&enterprise_project_id=all_granted_eps");
  EXPECT_EQ(q.category, Category::container);
  EXPECT_EQ(q.host_id, "h-1");
  EXPECT_EQ(q.enterprise_project_id, "all_granted_eps");
}

TEST(AssetQuery, InvalidValues) {
  const auto e = Endpoint::asset_statistics;
  for (auto target :
       {"/x?category=", "/x?category=HOST", "/x?category=hosts", "/x?category",
        "/x?host_id=", "/x?enterprise_project_id=", "/x?host_id=%zz", "/x?category=%00"})
    EXPECT_EQ(expect_error(e, target).status, 400) << target;
  EXPECT_EQ(expect_error(e, "/x?category=vm").message, "invalid parameter: category");
  std::string long_host = "/x?host_id=" + std::string(65, 'h');
  EXPECT_EQ(expect_error(e, long_host).message, "invalid parameter: host_id");
  std::string ok_host = "/x?host_id=" + std::string(64, 'h');
  EXPECT_EQ(expect_query<AssetStatisticsQuery>(e, ok_host).host_id, std::string(64, 'h'));
  std::string long_ep = "/x?enterprise_project_id=" + std::string(257, 'e');
  EXPECT_EQ(expect_error(e, long_ep).message, "invalid parameter: enterprise_project_id");
}

TEST(AssetQuery, RepeatedParameterIsAmbiguous) {
  auto e = expect_error(Endpoint::asset_statistics, "/x?category=host&category=host");
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.code, "HSS.0001");
  EXPECT_EQ(e.message, "invalid parameter: category");
  // An escaped name is the same name.
  EXPECT_EQ(expect_error(Endpoint::asset_statistics, "/x?category=host&c%61tegory=host").status,
            400);
}

TEST(AssetQuery, UnknownParametersAreIgnored) {
  auto q = expect_query<AssetStatisticsQuery>(
      Endpoint::asset_statistics, "/x?foo=%zz&limit=abc&foo=1&&=&f%zzo=1&%00=2&category=container");
  EXPECT_EQ(q.category, Category::container);
}

TEST(ProcessQuery, DefaultsAndValues) {
  auto d = expect_query<ProcessStatisticsQuery>(Endpoint::process_statistics, "/x");
  EXPECT_EQ(d.limit, 10u);
  EXPECT_EQ(d.offset, 0u);
  EXPECT_FALSE(d.path);
  auto q = expect_query<ProcessStatisticsQuery>(
      Endpoint::process_statistics, "/x?limit=200&offset=2000000&path=%2Fusr%2Fbin&category=host");
  EXPECT_EQ(q.limit, 200u);
  EXPECT_EQ(q.offset, 2000000u);
  EXPECT_EQ(q.path, "/usr/bin");
  EXPECT_EQ(expect_query<ProcessStatisticsQuery>(Endpoint::process_statistics, "/x?limit=1").limit,
            1u);
  EXPECT_EQ(
      expect_query<ProcessStatisticsQuery>(Endpoint::process_statistics, "/x?limit=007").limit, 7u);
}

TEST(ProcessQuery, IntegersArePlainDigitsInRange) {
  const auto e = Endpoint::process_statistics;
  for (auto target : {"/x?limit=0", "/x?limit=201", "/x?limit=-1", "/x?limit=+5", "/x?limit=%2B5",
                      "/x?limit=5%20", "/x?limit=%205", "/x?limit=0x10", "/x?limit=1e2",
                      "/x?limit=", "/x?limit", "/x?limit=1.0", "/x?limit=99999999999999999999999",
                      "/x?offset=2000001", "/x?offset=-0", "/x?offset=abc", "/x?offset="})
    EXPECT_EQ(expect_error(e, target).status, 400) << target;
  auto error = expect_error(e, "/x?limit=300");
  EXPECT_EQ(error.message, "invalid parameter: limit");
  EXPECT_EQ(error.description, "limit must be an integer from 1 to 200");
  EXPECT_EQ(expect_error(e, "/x?offset=2000001").message, "invalid parameter: offset");
}

TEST(ProcessQuery, PathBounds) {
  const auto e = Endpoint::process_statistics;
  EXPECT_EQ(expect_error(e, "/x?path=").message, "invalid parameter: path");
  EXPECT_EQ(expect_error(e, "/x?path=" + std::string(257, 'a')).message, "invalid parameter: path");
  EXPECT_EQ(expect_query<ProcessStatisticsQuery>(e, "/x?path=" + std::string(256, 'a')).path,
            std::string(256, 'a'));
  EXPECT_EQ(expect_error(e, "/x?path=%C3").status, 400);
  EXPECT_EQ(expect_error(e, "/x?path=a%00").status, 400);
  EXPECT_EQ(expect_error(e, "/x?path=a&path=b").status, 400);
}

TEST(RaspQuery, OnlyEnterpriseProjectMatters) {
  auto q = expect_query<RaspStatisticsQuery>(Endpoint::rasp_statistics,
                                             "/x?enterprise_project_id=0&limit=0&category=zzz");
  EXPECT_EQ(q.enterprise_project_id, "0");
  EXPECT_EQ(expect_error(Endpoint::rasp_statistics, "/x?enterprise_project_id=%").status, 400);
}

}  // namespace
}  // namespace hostprint::proto
