// Boost.JSON compiled into the agent rather than linked as libboost_json.so (see meson.build).
#include <boost/json/src.hpp>
