#include "collectors/formats/desktop_entry.hpp"

#include <gtest/gtest.h>

#include <string_view>

namespace hostprint::collectors {
namespace {

TEST(AutoStartParseDesktopEntry, HiddenInTheDesktopEntryGroup) {
  auto entry = [](std::string_view text) { return parse_desktop_entry(text); };
  EXPECT_TRUE(entry("[Desktop Entry]\nName=x\nHidden=true\n").hidden);
  EXPECT_TRUE(entry("# c\n[Desktop Entry]\nHidden = true \n").hidden);
  EXPECT_TRUE(entry("[Desktop Entry]\nHidden=1\n").hidden);
  EXPECT_FALSE(entry("[Desktop Entry]\nHidden=false\n").hidden);
  EXPECT_FALSE(entry("[Desktop Entry]\nHidden=True\n").hidden);  // booleans are lower case
  EXPECT_FALSE(entry("[Desktop Entry]\nHidden=true\nHidden=false\n").hidden);  // the last wins
  EXPECT_FALSE(entry("[Desktop Entry]\nX-Hidden=true\nHiddenX=true\n").hidden);
  EXPECT_FALSE(entry("[Desktop Entry]\nName=x\n[Desktop Action a]\nHidden=true\n").hidden);
  EXPECT_TRUE(entry("[Desktop Entry]\nName=x\n").has_desktop_entry_group);
  EXPECT_FALSE(entry("[Other]\nHidden=true\n").has_desktop_entry_group);
  EXPECT_FALSE(entry("").has_desktop_entry_group);
}

}  // namespace
}  // namespace hostprint::collectors
