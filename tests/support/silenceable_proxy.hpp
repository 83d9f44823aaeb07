#pragma once
// A TCP proxy on 127.0.0.1 (real sockets, one thread) between a test's client and a server
// on the loopback, here the PostgreSQL test cluster, that can be told to go silent: the
// store's deadline tests (unit/store/postgres_deadline_test.cpp) and the gateway's
// (functional/postgres_gateway_test.cpp).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace tillgate::testing {

// "postgresql://user:password@HOST:PORT/db...": HOST:PORT's start and end.
inline std::pair<std::size_t, std::size_t> host_port_span(const std::string& url) {
  const auto start = url.find('@') + 1;
  const auto end = url.find('/', start);
  if (start == 0 || end == std::string::npos) {
    throw std::runtime_error("test URL without user@host:port/");
  }
  return {start, end};
}

inline int connect_to(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    throw std::runtime_error("proxy: cannot connect to the test cluster");
  }
  return fd;
}

// A TCP proxy on 127.0.0.1 in front of the test cluster. blackhole(true) stops it from
// reading and forwarding anything, either way, while every socket stays open and new
// connections are still accepted: to the store the server has gone silent, as behind a
// cut network or when stuck on I/O. blackhole(false) forwards again.
class SilenceableProxy {
 public:
  explicit SilenceableProxy(int upstream_port) : upstream_port_(upstream_port) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
        ::listen(listener_, 16) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      ::close(listener_);
      throw std::runtime_error("proxy: cannot listen");
    }
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~SilenceableProxy() {
    stopping_ = true;
    thread_.join();
    for (const auto& [client, server] : pairs_) {
      ::close(client);
      ::close(server);
    }
    ::close(listener_);
  }
  SilenceableProxy(const SilenceableProxy&) = delete;
  SilenceableProxy& operator=(const SilenceableProxy&) = delete;

  [[nodiscard]] int port() const { return port_; }
  // The port of a "postgresql://user:password@HOST:PORT/db..." URL.
  [[nodiscard]] static int port_of(const std::string& url) {
    const auto [start, end] = host_port_span(url);
    return std::stoi(url.substr(url.rfind(':', end) + 1, end));
  }
  // The same URL, through this proxy.
  [[nodiscard]] std::string url_through(std::string url) const {
    const auto [start, end] = host_port_span(url);
    return url.replace(start, end - start, "127.0.0.1:" + std::to_string(port_));
  }
  void blackhole(bool on) { blackholed_ = on; }
  [[nodiscard]] int accepted() const { return accepted_; }

 private:
  void run() {
    while (!stopping_) {
      std::vector<pollfd> fds{{.fd = listener_, .events = POLLIN, .revents = 0}};
      const bool forwarding = !blackholed_;
      for (const auto& [client, server] : pairs_) {
        const auto events = static_cast<short>(forwarding ? POLLIN : 0);
        fds.push_back({.fd = client, .events = events, .revents = 0});
        fds.push_back({.fd = server, .events = events, .revents = 0});
      }
      if (::poll(fds.data(), fds.size(), 10) <= 0) {
        continue;
      }
      if (forwarding) {
        forward(fds);  // before an accepted connection joins pairs_, which fds follows
      }
      if ((fds[0].revents & POLLIN) != 0) {
        const int client = ::accept(listener_, nullptr, nullptr);
        pairs_.emplace_back(client, connect_to(upstream_port_));
        ++accepted_;
      }
    }
  }

  // Copies what is readable to the other side; a side that closed closes the pair.
  void forward(const std::vector<pollfd>& fds) {
    std::vector<std::pair<int, int>> open;
    for (std::size_t i = 0; i < pairs_.size(); ++i) {
      const auto [client, server] = pairs_[i];
      const bool alive = pump(fds[1 + 2 * i], server) && pump(fds[2 + 2 * i], client);
      if (alive) {
        open.emplace_back(client, server);
      } else {
        ::close(client);
        ::close(server);
      }
    }
    pairs_ = std::move(open);
  }

  static bool pump(const pollfd& from, int to) {
    if (from.revents == 0) {
      return true;
    }
    char buffer[65536];
    const auto got = ::read(from.fd, buffer, sizeof buffer);
    for (ssize_t sent = 0; got > 0 && sent < got;) {
      const auto wrote = ::write(to, buffer + sent, static_cast<std::size_t>(got - sent));
      if (wrote <= 0) {
        return false;
      }
      sent += wrote;
    }
    return got > 0;
  }

  int upstream_port_;
  int listener_ = -1;
  int port_ = 0;
  std::vector<std::pair<int, int>> pairs_;  // (client, server); the proxy's thread only
  std::atomic<bool> blackholed_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

}  // namespace tillgate::testing
