#include "collectors/formats/cgroup_path.hpp"

#include <gtest/gtest.h>

namespace hostprint::collectors {
namespace {

const std::string hex_a(64, 'a');
const std::string hex_b = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

std::optional<ContainerRef> parse(const std::string& text) {
  return container_from_cgroup(text);
}

TEST(ContainerFromCgroup, HostProcessesHaveNone) {
  EXPECT_FALSE(parse("0::/\n"));
  EXPECT_FALSE(parse("0::/init.scope\n"));
  EXPECT_FALSE(parse("0::/system.slice/docker.service\n"));
  EXPECT_FALSE(parse("0::/system.slice/containerd.service\n"));
  EXPECT_FALSE(parse("0::/user.slice/user-1000.slice/session-3.scope\n"));
  EXPECT_FALSE(parse("12:pids:/\n11:memory:/process_api/23075c90144cc4646e730db8d27ab0c3\n0::/\n"));
  EXPECT_FALSE(parse(""));
  EXPECT_FALSE(parse("garbage without colons\n::\n"));
}

TEST(ContainerFromCgroup, Docker) {
  EXPECT_EQ(parse("0::/system.slice/docker-" + hex_a + ".scope\n"),
            (ContainerRef{"docker", hex_a}));
  EXPECT_EQ(parse("12:pids:/docker/" + hex_b + "\n0::/\n"), (ContainerRef{"docker", hex_b}));
  // Docker in Docker: the innermost names the container the process is in.
  EXPECT_EQ(parse("0::/docker/" + hex_a + "/docker/" + hex_b + "\n"),
            (ContainerRef{"docker", hex_b}));
  EXPECT_FALSE(parse("0::/docker/not-a-hex-id\n"));
  EXPECT_FALSE(parse("0::/docker/" + hex_a.substr(1) + "\n"));
  EXPECT_FALSE(parse("0::/docker/" + std::string(64, 'A') + "\n"));
}

TEST(ContainerFromCgroup, ContainerdCriOPodmanKubernetes) {
  EXPECT_EQ(
      parse("0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234_5678.slice/"
            "cri-containerd-" +
            hex_a + ".scope\n"),
      (ContainerRef{"containerd", hex_a}));
  EXPECT_EQ(
      parse("0::/kubepods/besteffort/pod0a1b2c3d-1111-2222-3333-444455556666/" + hex_b + "\n"),
      (ContainerRef{"kubernetes", hex_b}));
  EXPECT_EQ(parse("0::/kubepods.slice/kubepods-pod1.slice/crio-" + hex_a + ".scope\n"),
            (ContainerRef{"cri-o", hex_a}));
  EXPECT_FALSE(parse("0::/kubepods.slice/kubepods-pod1.slice/crio-conmon-" + hex_a + ".scope\n"));
  EXPECT_EQ(parse("0::/machine.slice/libpod-" + hex_b + ".scope/container\n"),
            (ContainerRef{"podman", hex_b}));
  EXPECT_FALSE(parse("0::/machine.slice/libpod-conmon-" + hex_b + ".scope\n"));
  EXPECT_FALSE(parse("0::/kubepods/besteffort/pod0a1b2c3d\n"));  // the pod, not a container
}

TEST(ContainerFromCgroup, Lxc) {
  EXPECT_EQ(parse("0::/lxc/web01\n"), (ContainerRef{"lxc", "web01"}));
  EXPECT_EQ(parse("0::/lxc.payload.db-1/system.slice/cron.service\n"),
            (ContainerRef{"lxc", "db-1"}));
  EXPECT_FALSE(parse("0::/lxc.monitor.db-1\n"));
  EXPECT_FALSE(parse("0::/lxc\n"));
}

TEST(ContainerFromCgroup, HostileText) {
  std::string deep = "0::";
  for (int i = 0; i < 10000; ++i) deep += "/x";
  EXPECT_FALSE(parse(deep + "\n"));
  std::string long_line = "0::/" + std::string(1 << 20, 'z') + "\n";
  EXPECT_FALSE(parse(long_line));
  EXPECT_EQ(parse(std::string("0::/do\0cker/x\n", 14) + "1:pids:/docker/" + hex_a),
            (ContainerRef{"docker", hex_a}));
}

}  // namespace
}  // namespace hostprint::collectors
