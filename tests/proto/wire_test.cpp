#include "proto/wire.hpp"

#include "proto/assets.hpp"
#include "proto/digest.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace hostprint::proto {
namespace {

TEST(Wire, AssetStatisticsHasExactlyTheTwelveMembers) {
  AssetStatistics s;
  s.account_num = 24;
  s.process_num = 71;
  s.database_num = 3;
  auto v = boost::json::parse(to_json(s)).as_object();
  EXPECT_EQ(v.size(), 12u);
  for (auto key : {"account_num", "port_num", "process_num", "app_num", "auto_launch_num",
                   "web_framework_num", "web_site_num", "jar_package_num", "kernel_module_num",
                   "web_service_num", "web_app_num", "database_num"})
    EXPECT_TRUE(v.contains(key)) << key;
  EXPECT_EQ(v["account_num"].as_int64(), 24);
  EXPECT_EQ(v["process_num"].as_int64(), 71);
  EXPECT_EQ(v["database_num"].as_int64(), 3);
}

TEST(Wire, CountsAreClamped) {
  AssetStatistics s;
  s.port_num = 5'000'000'000;
  s.app_num = -4;
  auto v = boost::json::parse(to_json(s)).as_object();
  EXPECT_EQ(v["port_num"].as_int64(), 2147483647);
  EXPECT_EQ(v["app_num"].as_int64(), 0);
}

TEST(Wire, ProcessStatisticsShape) {
  ProcessStatistics p{2, {{"/usr/sbin/nginx", 3}, {"/usr/bin/a\"b\n", 1}}};
  EXPECT_EQ(to_json(ProcessStatistics{}), R"({"total_num":0,"data_list":[]})");
  auto v = boost::json::parse(to_json(p)).as_object();
  EXPECT_EQ(v["total_num"].as_int64(), 2);
  auto& list = v["data_list"].as_array();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].as_object().at("path").as_string(), "/usr/sbin/nginx");
  EXPECT_EQ(list[0].as_object().at("num").as_int64(), 3);
  EXPECT_EQ(list[1].as_object().at("path").as_string(), "/usr/bin/a\"b\n");
}

TEST(Wire, PreSerializedEntriesGiveTheSameBytes) {
  ProcessStatistics p{
      7, {{"/usr/sbin/nginx", 3}, {"/opt/\"odd\"\n\xE4\xB8\xAD", 1}, {"/x", 5'000'000'000}}};
  std::vector<std::string> parts;
  for (const auto& e : p.data_list) parts.push_back(to_json(e));
  std::vector<const std::string*> pointers;
  for (const auto& part : parts) pointers.push_back(&part);
  EXPECT_EQ(process_statistics_json(7, pointers), to_json(p));
  EXPECT_EQ(process_statistics_json(0, {}), to_json(ProcessStatistics{}));
}

TEST(Wire, RaspAndErrorBodies) {
  EXPECT_EQ(to_json(RaspStatistics{1, 4}), R"({"protect_host_num":1,"anti_tampering_num":4})");
  auto e = boost::json::parse(
               to_json(invalid_parameter("limit", "limit must be an integer from 1 to 200")))
               .as_object();
  EXPECT_EQ(e["error_code"].as_string(), "HSS.0001");
  EXPECT_EQ(e["error_msg"].as_string(), "invalid parameter: limit");
  EXPECT_EQ(e["error_description"].as_string(), "limit must be an integer from 1 to 200");
  EXPECT_EQ(e.size(), 3u);
}

TEST(FileModeText, AsLsShowsIt) {
  EXPECT_EQ(file_mode_text(0100755), "-rwxr-xr-x");
  EXPECT_EQ(file_mode_text(0100644), "-rw-r--r--");
  EXPECT_EQ(file_mode_text(0104755), "-rwsr-xr-x");
  EXPECT_EQ(file_mode_text(0102745), "-rwxr-Sr-x");
  EXPECT_EQ(file_mode_text(0041777), "drwxrwxrwt");
  EXPECT_EQ(file_mode_text(0041776), "drwxrwxrwT");
  EXPECT_EQ(file_mode_text(0120777), "lrwxrwxrwx");
  EXPECT_EQ(file_mode_text(0020620), "crw--w----");
  EXPECT_EQ(file_mode_text(0100000), "----------");
}

TEST(ShownText, DerivesOnlyWhatIsStored) {
  EXPECT_EQ(shown_text(std::string_view("/usr/bin/sleep"), Shown::sha256_hex),
            sha256_hex("/usr/bin/sleep"));
  EXPECT_EQ(shown_text(std::string_view(""), Shown::sha256_hex), "");  // no path, no digest
  EXPECT_EQ(shown_text(std::int64_t{0100755}, Shown::file_mode), "-rwxr-xr-x");
  EXPECT_EQ(shown_text(std::int64_t{0}, Shown::file_mode), "");  // mode unknown
  EXPECT_EQ(shown_text(std::int64_t{42}, Shown::as_stored), "42");
}

}  // namespace
}  // namespace hostprint::proto
