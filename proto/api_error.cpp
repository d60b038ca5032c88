#include "proto/api_error.hpp"

namespace hostprint::proto {

ApiError invalid_parameter(std::string_view name, std::string_view description) {
  return {400, "HSS.0001", "invalid parameter: " + std::string(name), std::string(description)};
}

ApiError project_mismatch(std::string_view project_id) {
  return {400, "HSS.0011", "invalid project: " + std::string(project_id),
          "this agent answers for another project"};
}

ApiError unauthorized() {
  return {401, "HSS.0010", "authentication failed",
          "X-Auth-Token is missing, too long or not an accepted token"};
}

ApiError not_found() {
  return {404, "HSS.0011", "no such path", "the request path is not part of this API"};
}

ApiError method_not_allowed() {
  return {405, "HSS.0001", "method not allowed", "only GET and HEAD are allowed"};
}

ApiError request_too_large(int status, std::string_view what) {
  return {status, "HSS.0002", "request too large", std::string(what)};
}

ApiError internal_error(std::string_view request_id) {
  return {500, "HSS.0002", "internal error",
          "the failure is logged with request id " + std::string(request_id)};
}

ApiError shutting_down() {
  return {503, "HSS.0002", "service unavailable", "the agent is shutting down"};
}

}  // namespace hostprint::proto
