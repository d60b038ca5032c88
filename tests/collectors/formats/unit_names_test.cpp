#include "collectors/formats/unit_names.hpp"

#include <gtest/gtest.h>

#include <string>

namespace hostprint::collectors {
namespace {

TEST(AutoStartNames, UnitNames) {
  EXPECT_TRUE(valid_unit_name("ssh.service"));
  EXPECT_TRUE(valid_unit_name("getty@tty1.service"));
  EXPECT_TRUE(valid_unit_name("getty@.service"));
  EXPECT_TRUE(valid_unit_name("a@b@c.timer"));
  EXPECT_TRUE(valid_unit_name("systemd-fsck@dev-disk-by\\x2duuid-1.service"));
  EXPECT_TRUE(valid_unit_name("x.y.mount"));
  EXPECT_FALSE(valid_unit_name("@x.service"));
  EXPECT_FALSE(valid_unit_name("ssh"));
  EXPECT_FALSE(valid_unit_name("ssh.conf"));
  EXPECT_FALSE(valid_unit_name(".service"));
  EXPECT_FALSE(valid_unit_name("has space.service"));
  EXPECT_FALSE(valid_unit_name(std::string(250, 'a') + ".service"));
}

TEST(AutoStartNames, SysvStartLinks) {
  EXPECT_EQ(sysv_start_link_unit("S01openipmi"), "openipmi.service");
  EXPECT_EQ(sysv_start_link_unit("S20hwclock.sh"), "hwclock.service");
  EXPECT_EQ(sysv_start_link_unit("S99x.y"), "x.y.service");
  EXPECT_FALSE(sysv_start_link_unit("K01openipmi"));
  EXPECT_FALSE(sysv_start_link_unit("S1openipmi"));
  EXPECT_FALSE(sysv_start_link_unit("Sxxopenipmi"));
  EXPECT_FALSE(sysv_start_link_unit("S01"));
  EXPECT_FALSE(sysv_start_link_unit("S01.sh"));
  EXPECT_FALSE(sysv_start_link_unit("S01foo.dpkg-old"));
  EXPECT_FALSE(sysv_start_link_unit("S01.hidden"));
  EXPECT_FALSE(sysv_start_link_unit("S01a@b"));
  EXPECT_FALSE(sysv_start_link_unit("S01with space"));
  EXPECT_FALSE(sysv_start_link_unit("README"));
}

TEST(AutoStartNames, HiddenOrBackup) {
  EXPECT_TRUE(hidden_or_backup_name(".x"));
  EXPECT_TRUE(hidden_or_backup_name("x~"));
  EXPECT_TRUE(hidden_or_backup_name("x.rpmnew"));
  EXPECT_TRUE(hidden_or_backup_name("x.dpkg-dist"));
  EXPECT_TRUE(hidden_or_backup_name("x.swp"));
  EXPECT_FALSE(hidden_or_backup_name("x.sh"));
  EXPECT_FALSE(hidden_or_backup_name("x"));
}

}  // namespace
}  // namespace hostprint::collectors
