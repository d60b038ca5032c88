#include "collectors/formats/dpkg.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <string>

#include "tests/package_fixtures.hpp"

namespace hostprint::collectors {
namespace {

using namespace std::string_literals;
using test::dpkg_stanza;
using test::keys_of;

TEST(SoftwareDpkgParse, OnlyInstalledCounts) {
  std::string text = dpkg_stanza("ok", "amd64", "install ok installed") +
                     dpkg_stanza("held", "amd64", "hold ok installed") +
                     dpkg_stanza("going", "amd64", "deinstall ok installed") +
                     dpkg_stanza("removed", "amd64", "deinstall ok config-files") +
                     dpkg_stanza("half", "amd64", "install reinstreq half-installed") +
                     dpkg_stanza("never", "amd64", "purge ok not-installed") +
                     dpkg_stanza("unpacked", "amd64", "install ok unpacked") +
                     dpkg_stanza("halfconf", "amd64", "install ok half-configured") +
                     dpkg_stanza("awaited", "amd64", "install ok triggers-awaited") +
                     dpkg_stanza("pending", "amd64", "install ok triggers-pending");
  auto parsed = parse_dpkg_status(text);
  EXPECT_EQ(parsed.records.size(), 10u);
  EXPECT_EQ(parsed.malformed_stanzas, 0u);
  EXPECT_EQ(keys_of(installed_dpkg_packages(parsed.records)),
            (std::set<std::string>{"going:amd64=1.0", "held:amd64=1.0", "ok:amd64=1.0"}));
}

TEST(SoftwareDpkgParse, FieldsInAnyOrderContinuationsAndNoTrailingNewline) {
  std::string text =
      "Description: first\n"
      " Package: not-a-field\n"
      " Status: purge ok not-installed\n"
      "Conffiles:\n /etc/a 0123\n /etc/b 4567 obsolete\n"
      "version: 2:1.2-3\n"  // field names are case-insensitive
      "ARCHITECTURE: arm64\n"
      "Status: install ok installed\n"
      "Package: reordered\n"
      "\n\n\n"
      "Package: last\n"
      "Status: install ok installed\n"
      "Architecture: all\n"
      "Version: 5";  // no newline at the end of the file
  auto parsed = parse_dpkg_status(text);
  EXPECT_EQ(parsed.malformed_stanzas, 0u);
  EXPECT_EQ(keys_of(installed_dpkg_packages(parsed.records)),
            (std::set<std::string>{"reordered:arm64=2:1.2-3", "last:all=5"}));
}

TEST(SoftwareDpkgParse, CrlfAndBlankLinesOfSpaces) {
  std::string text =
      "Package: a\r\nStatus: install ok installed\r\nArchitecture: amd64\r\nVersion: 1\r\n\r\n"
      "Package: b\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2\n \t \n"
      "Package: c\nStatus: install ok installed\nArchitecture: amd64\nVersion: 3\n";
  auto parsed = parse_dpkg_status(text);
  EXPECT_EQ(parsed.malformed_stanzas, 0u);
  EXPECT_EQ(keys_of(installed_dpkg_packages(parsed.records)),
            (std::set<std::string>{"a:amd64=1", "b:amd64=2", "c:amd64=3"}));
}

TEST(SoftwareDpkgParse, MultiArchIsTwoItemsAndADuplicateIsOne) {
  std::string text = dpkg_stanza("libc6", "amd64", "install ok installed", "2.36") +
                     dpkg_stanza("libc6", "i386", "install ok installed", "2.36") +
                     dpkg_stanza("zlib1g", "amd64", "install ok installed", "1.2") +
                     dpkg_stanza("zlib1g", "amd64", "install ok installed", "1.3");
  auto packages = installed_dpkg_packages(parse_dpkg_status(text).records);
  EXPECT_EQ(keys_of(packages),
            (std::set<std::string>{"libc6:amd64=2.36", "libc6:i386=2.36", "zlib1g:amd64=1.3"}));
}

TEST(SoftwareDpkgParse, TheLastStanzaOfAPackageWins) {
  // dpkg loads stanzas in order, a later one replacing the earlier state of the same package.
  std::string text = dpkg_stanza("gone", "amd64", "install ok installed") +
                     dpkg_stanza("back", "amd64", "deinstall ok config-files") +
                     dpkg_stanza("gone", "amd64", "deinstall ok config-files") +
                     dpkg_stanza("back", "amd64", "install ok installed", "2.0");
  EXPECT_EQ(keys_of(installed_dpkg_packages(parse_dpkg_status(text).records)),
            (std::set<std::string>{"back:amd64=2.0"}));
}

TEST(SoftwareDpkgParse, MissingArchitectureIsEmpty) {
  auto packages = installed_dpkg_packages(
      parse_dpkg_status("Package: old\nStatus: install ok installed\nVersion: 0.1\n").records);
  ASSERT_EQ(packages.size(), 1u);
  EXPECT_EQ(packages[0].architecture, "");
  EXPECT_EQ(packages[0].manager, "dpkg");
  EXPECT_EQ(packages[0].version, "0.1");
}

TEST(SoftwareDpkgParse, MalformedStanzasAreSkippedAndCounted) {
  std::string text =
      "Status: install ok installed\nArchitecture: amd64\n\n"                   // no Package
      "Package: two-words\nStatus: install installed\n\n"                       // bad Status
      "Package: four-words\nStatus: install ok installed now\n\n"               // bad Status
      "Package: no-status\nArchitecture: amd64\n\n"                             // no Status
      " leading continuation\nPackage: cont\nStatus: install ok installed\n\n"  // orphan line
      "Package: dup\nPackage: dup2\nStatus: install ok installed\n\n"           // repeated field
      "Package: nocolon\nStatus: install ok installed\nthis line has no colon\n\n"
      "Package: has space\nStatus: install ok installed\n\n"
      "Package: \nStatus: install ok installed\n\n"
      "Package: " +
      std::string(5000, 'n') +
      "\nStatus: install ok installed\n\n"
      "Package: fine\nStatus: install ok installed\nArchitecture: amd64\n";
  auto parsed = parse_dpkg_status(text);
  EXPECT_EQ(parsed.malformed_stanzas, 10u);
  EXPECT_EQ(keys_of(installed_dpkg_packages(parsed.records)),
            (std::set<std::string>{"fine:amd64="}));
}

TEST(SoftwareDpkgParse, NulBytesSpoilTheirStanzaOnly) {
  std::string text = "Package: nul\0led\nStatus: install ok installed\n\n"s +
                     "Package: desc\nStatus: install ok installed\nDescription: x\n a\0b\n\n"s +
                     dpkg_stanza("clean", "amd64", "install ok installed");
  auto parsed = parse_dpkg_status(text);
  EXPECT_EQ(parsed.malformed_stanzas, 2u);
  EXPECT_EQ(keys_of(installed_dpkg_packages(parsed.records)),
            (std::set<std::string>{"clean:amd64=1.0"}));
}

TEST(SoftwareDpkgParse, OverlongLinesAreCutAndCounted) {
  const std::string huge(max_package_database_line + 10, 'x');
  std::string text =
      "Package: long-depends\nStatus: install ok installed\nArchitecture: amd64\nDepends: " + huge +
      "\n\n" +  // kept: not our field
      "Package: long-status\nArchitecture: amd64\nStatus: install ok " + huge +  // our field: bad
      "\n\n" + "Package: " + huge + "\nStatus: install ok installed\n\n" +
      dpkg_stanza("after", "amd64", "install ok installed");
  auto parsed = parse_dpkg_status(text);
  EXPECT_EQ(parsed.overlong_lines, 3u);
  EXPECT_EQ(parsed.malformed_stanzas, 2u);
  EXPECT_EQ(keys_of(installed_dpkg_packages(parsed.records)),
            (std::set<std::string>{"long-depends:amd64=", "after:amd64=1.0"}));
}

// How long it takes is bench/parser_bench's (a time limit here fails a busy or sanitized run).
TEST(SoftwareDpkgParse, ManyStanzasAreAllRead) {
  std::string text;
  for (int i = 0; i < 100000; ++i)
    text += dpkg_stanza("p" + std::to_string(i), "amd64", "install ok installed");
  auto packages = installed_dpkg_packages(parse_dpkg_status(text).records);
  EXPECT_EQ(packages.size(), 100000u);
}

}  // namespace
}  // namespace hostprint::collectors
