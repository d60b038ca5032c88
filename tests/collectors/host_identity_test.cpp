#include "collectors/host_identity.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include "tests/temp_dir.hpp"

namespace hostprint::collectors {
namespace {

TEST(HostIdentity, DefaultRouteIsTheUpRouteToEverywhereWithTheLowestMetric) {
  const std::string route =
      "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
      "eth1\t0000A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
      "wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\n"
      "eth0\t00000000\t0102A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
      "down0\t00000000\t0101A8C0\t0002\t0\t0\t1\t00000000\t0\t0\t0\n"
      "bad\t00000000\tzz\tzz\n";
  EXPECT_EQ(default_route_interface(route), "eth0");
  EXPECT_EQ(default_route_interface(""), "");
  EXPECT_EQ(default_route_interface("Iface\tDestination\n"
                                    "eth1\t0000A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\n"),
            "");
}

TEST(HostIdentity, TheRootsHostnameNamesTheHost) {
  test::TempDir root;
  root.write("etc/hostname", "  web-01 \nignored\n");
  HostIdentityCollector collector;
  ScanContext context;
  context.root = root.path();
  ASSERT_TRUE(collector.collect(context).complete);
  proto::AssetSet found;
  collector.publish(found);
  EXPECT_EQ(found.host_name, "web-01");

  test::TempDir bare;  // no etc/hostname: the kernel's name
  context.root = bare.path();
  ASSERT_TRUE(collector.collect(context).complete);
  collector.publish(found);
  char name[256] = {};
  ASSERT_EQ(::gethostname(name, sizeof name), 0);
  EXPECT_EQ(found.host_name, name);
}

}  // namespace
}  // namespace hostprint::collectors
