#include "collectors/formats/container_meta.hpp"

#include <gtest/gtest.h>

#include <string>

namespace hostprint::collectors {
namespace {

TEST(DockerContainerName, IsTheNameWithoutItsSlash) {
  EXPECT_EQ(docker_container_name(R"({"ID":"abc","Name":"/web","Config":{"Hostname":"abc"}})"),
            "web");
  EXPECT_EQ(docker_container_name(R"({"Name":"db"})"), "db");
  EXPECT_FALSE(docker_container_name(R"({"Name":"/"})"));
  EXPECT_FALSE(docker_container_name(R"({"Name":5})"));
  EXPECT_FALSE(docker_container_name(R"(["Name","/web"])"));
  EXPECT_FALSE(docker_container_name("{\"Name\":\"/web\""));  // cut short
  EXPECT_FALSE(docker_container_name(""));
}

TEST(StorageContainerNames, FirstNameOfEachId) {
  auto names = storage_container_names(
      R"([{"id":"aa","names":["web","alias"]},{"id":"bb","names":[]},{"id":"cc"},)"
      R"({"names":["orphan"]},7,{"id":"dd","names":[3]}])");
  EXPECT_EQ(names, (std::map<std::string, std::string>{{"aa", "web"}}));
  EXPECT_TRUE(storage_container_names(R"({"id":"aa"})").empty());
}

TEST(OciAnnotatedName, KubernetesThenNerdctl) {
  EXPECT_EQ(oci_annotated_name(
                R"({"annotations":{"io.kubernetes.cri.container-name":"app","nerdctl/name":"x"}})"),
            "app");
  EXPECT_EQ(oci_annotated_name(R"({"annotations":{"io.kubernetes.container.name":"crio-app"}})"),
            "crio-app");
  EXPECT_EQ(oci_annotated_name(R"({"annotations":{"nerdctl/name":"n1"}})"), "n1");
  EXPECT_FALSE(oci_annotated_name(R"({"annotations":{"other":"x"}})"));
  EXPECT_FALSE(oci_annotated_name(R"({"process":{}})"));
}

TEST(ContainerMeta, HostileTextIsRefusedInBoundedWork) {
  // Nesting past any runtime's is refused, not recursed into; a name past 256 bytes is no name.
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_TRUE(storage_container_names(deep).empty());
  EXPECT_FALSE(docker_container_name(R"({"Name":"/)" + std::string(300, 'n') + "\"}"));
  EXPECT_FALSE(oci_annotated_name(std::string("{\"annotations\":{\"nerdctl/name\":\"\\ud800") +
                                  "\"}"));
}

}  // namespace
}  // namespace hostprint::collectors
