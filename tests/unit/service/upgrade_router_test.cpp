// net::UpgradeRouter alone: which handler takes the upgrade of a path. (Through the HTTP
// server, with real connections: ws_session_test.cpp.)
#include "net/upgrade_router.hpp"

#include <gtest/gtest.h>

#include "net/tls_stream.hpp"

namespace tillgate {
namespace {

class NullHandler final : public net::UpgradeHandler {
 public:
  void upgrade(boost::beast::tcp_stream, net::UpgradeRequest) override {}
  void upgrade(net::TlsStream, net::UpgradeRequest) override {}
};

TEST(UpgradeRouter, FindsEachPathsHandlerByExactMatch) {
  NullHandler terminals;
  NullHandler pos;
  net::UpgradeRouter router;
  router.add("/v1/terminal/ws", terminals);
  router.add("/v1", pos);
  EXPECT_EQ(router.size(), 2u);
  EXPECT_EQ(router.find("/v1/terminal/ws"), &terminals);
  EXPECT_EQ(router.find("/v1"), &pos);
  EXPECT_EQ(router.find("/v1/"), nullptr);
  EXPECT_EQ(router.find("/v1/terminal"), nullptr);
  EXPECT_EQ(router.find("/v1/terminal/ws/"), nullptr);
  EXPECT_EQ(router.find("/V1"), nullptr);
  EXPECT_EQ(router.find(""), nullptr);
}

TEST(UpgradeRouter, AnEmptyRouterFindsNothing) {
  const net::UpgradeRouter router;
  EXPECT_EQ(router.size(), 0u);
  EXPECT_EQ(router.find("/v1/terminal/ws"), nullptr);
}

}  // namespace
}  // namespace tillgate
