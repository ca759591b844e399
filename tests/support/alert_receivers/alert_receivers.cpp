// SPDX-License-Identifier: Apache-2.0
#include "ward/testing/alert_receivers.h"

#include <Poco/Exception.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/StreamCopier.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace ward::testing {

// ---- webhook ------------------------------------------------------------------------------

struct WebhookReceiver::State {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<ReceivedRequest> requests;  // guarded by mu
  int fail_first = 0;
  std::unique_ptr<Poco::Net::HTTPServer> server;
  std::uint16_t port = 0;
};

namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

class RecordingHandler final : public Poco::Net::HTTPRequestHandler {
 public:
  explicit RecordingHandler(WebhookReceiver::State& state) : state_(state) {}
  void handleRequest(Poco::Net::HTTPServerRequest& request,
                     Poco::Net::HTTPServerResponse& response) override {
    ReceivedRequest r;
    r.method = request.getMethod();
    r.path = request.getURI();
    for (const auto& [name, value] : request) {
      r.headers[Lower(name)] = value;
    }
    Poco::StreamCopier::copyToString(request.stream(), r.body);
    r.at = std::chrono::steady_clock::now();
    bool fail = false;
    {
      std::scoped_lock lock(state_.mu);
      fail = static_cast<int>(state_.requests.size()) < state_.fail_first;
      state_.requests.push_back(std::move(r));
    }
    state_.cv.notify_all();
    response.setStatus(fail ? Poco::Net::HTTPResponse::HTTP_INTERNAL_SERVER_ERROR
                            : Poco::Net::HTTPResponse::HTTP_NO_CONTENT);
    response.setContentLength(0);
    response.send();
  }

 private:
  WebhookReceiver::State& state_;
};

class Factory final : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit Factory(WebhookReceiver::State& state) : state_(state) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(
      const Poco::Net::HTTPServerRequest&) override {
    return new RecordingHandler(state_);
  }

 private:
  WebhookReceiver::State& state_;
};

}  // namespace

Result<std::unique_ptr<WebhookReceiver>> WebhookReceiver::Start(const std::filesystem::path& cert,
                                                                const std::filesystem::path& key,
                                                                int fail_first) {
  std::unique_ptr<WebhookReceiver> r(new WebhookReceiver);
  r->state_ = std::make_unique<State>();
  r->state_->fail_first = fail_first;
  try {
    Poco::Net::initializeSSL();
    Poco::Net::Context::Ptr context =
        new Poco::Net::Context(Poco::Net::Context::SERVER_USE, key.string(), cert.string(), "",
                               Poco::Net::Context::VERIFY_NONE);
    // Unbound first: the (address, backlog) constructors set SO_REUSEPORT.
    Poco::Net::SecureServerSocket socket(context);
    socket.bind(Poco::Net::SocketAddress("127.0.0.1", 0), true, false);
    socket.listen(64);
    r->state_->port = socket.address().port();
    auto* params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(4);
    r->state_->server = std::make_unique<Poco::Net::HTTPServer>(
        new Factory(*r->state_), socket, Poco::Net::HTTPServerParams::Ptr(params));
    r->state_->server->start();
  } catch (const Poco::Exception& e) {
    return UnavailableError("webhook receiver: " + e.displayText());
  }
  return r;
}

WebhookReceiver::~WebhookReceiver() {
  if (state_ && state_->server) {
    state_->server->stopAll(true);
  }
}

std::uint16_t WebhookReceiver::port() const { return state_->port; }

std::string WebhookReceiver::url() const {
  return "https://127.0.0.1:" + std::to_string(state_->port) + "/ward-hook";
}

std::vector<ReceivedRequest> WebhookReceiver::WaitFor(std::size_t n,
                                                      std::chrono::milliseconds timeout) {
  std::unique_lock lock(state_->mu);
  state_->cv.wait_for(lock, timeout, [&] { return state_->requests.size() >= n; });
  return state_->requests;
}

// ---- SMTP ---------------------------------------------------------------------------------

struct SmtpReceiver::State {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<ReceivedMail> mails;  // guarded by mu
  int listen_fd = -1;
  std::uint16_t port = 0;
  std::atomic<bool> stop{false};
  std::thread thread;

  // Reads one CRLF-terminated line into `line` (without CRLF); false on EOF, error or stop.
  bool ReadLine(int fd, std::string& buffer, std::string& line) {
    while (true) {
      if (const auto end = buffer.find("\r\n"); end != std::string::npos) {
        line = buffer.substr(0, end);
        buffer.erase(0, end + 2);
        return true;
      }
      pollfd p{fd, POLLIN, 0};
      const int ready = ::poll(&p, 1, 100);
      if (stop.load()) {
        return false;
      }
      if (ready <= 0) {
        continue;
      }
      char chunk[4096];
      const ssize_t got = ::read(fd, chunk, sizeof chunk);
      if (got <= 0) {
        return false;
      }
      buffer.append(chunk, static_cast<std::size_t>(got));
    }
  }

  static void Send(int fd, const std::string& text) {
    std::size_t done = 0;
    while (done < text.size()) {
      const ssize_t n = ::send(fd, text.data() + done, text.size() - done, MSG_NOSIGNAL);
      if (n <= 0) {
        return;
      }
      done += static_cast<std::size_t>(n);
    }
  }

  static std::string Address(const std::string& line) {
    const auto open = line.find('<');
    const auto close = line.find('>', open);
    return open == std::string::npos || close == std::string::npos
               ? std::string()
               : line.substr(open + 1, close - open - 1);
  }

  void Session(int fd) {
    Send(fd, "220 ward-test ESMTP\r\n");
    std::string buffer;
    std::string line;
    ReceivedMail mail;
    while (ReadLine(fd, buffer, line)) {
      const std::string verb = Lower(line.substr(0, line.find(' ')));
      if (verb == "ehlo" || verb == "helo") {
        mail.ehlo = line.size() > 5 ? line.substr(5) : "";
        Send(fd, verb == "ehlo" ? "250-ward-test\r\n250 8BITMIME\r\n" : "250 ward-test\r\n");
      } else if (verb == "starttls") {
        mail.starttls_asked = true;
        Send(fd, "502 5.5.1 STARTTLS not offered\r\n");
      } else if (verb == "mail") {
        mail.mail_from = Address(line);
        Send(fd, "250 2.1.0 OK\r\n");
      } else if (verb == "rcpt") {
        mail.rcpt_to.push_back(Address(line));
        Send(fd, "250 2.1.5 OK\r\n");
      } else if (verb == "data") {
        Send(fd, "354 end with <CRLF>.<CRLF>\r\n");
        std::string data;
        while (ReadLine(fd, buffer, line) && line != ".") {
          data += (line.starts_with("..") ? line.substr(1) : line) + "\r\n";
        }
        mail.data = std::move(data);
        {
          std::scoped_lock lock(mu);
          mails.push_back(mail);
        }
        cv.notify_all();
        mail.rcpt_to.clear();
        Send(fd, "250 2.0.0 queued\r\n");
      } else if (verb == "rset" || verb == "noop") {
        Send(fd, "250 OK\r\n");
      } else if (verb == "quit") {
        Send(fd, "221 bye\r\n");
        return;
      } else {
        Send(fd, "502 5.5.2 not implemented\r\n");
      }
    }
  }

  void Loop() {
    while (!stop.load()) {
      pollfd p{listen_fd, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) {
        continue;
      }
      const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        continue;
      }
      Session(fd);
      ::close(fd);
    }
  }
};

Result<std::unique_ptr<SmtpReceiver>> SmtpReceiver::Start() {
  std::unique_ptr<SmtpReceiver> r(new SmtpReceiver);
  r->state_ = std::make_unique<State>();
  State& s = *r->state_;
  s.listen_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s.listen_fd < 0) {
    return std::unexpected(ErrnoError("smtp receiver socket", errno));
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(s.listen_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(s.listen_fd, 8) != 0 ||
      ::getsockname(s.listen_fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const int err = errno;
    ::close(s.listen_fd);
    s.listen_fd = -1;
    return std::unexpected(ErrnoError("smtp receiver bind", err));
  }
  s.port = ntohs(addr.sin_port);
  s.thread = std::thread([&s] { s.Loop(); });
  return r;
}

SmtpReceiver::~SmtpReceiver() {
  if (state_) {
    state_->stop = true;
    if (state_->thread.joinable()) {
      state_->thread.join();
    }
    if (state_->listen_fd >= 0) {
      ::close(state_->listen_fd);
    }
  }
}

std::uint16_t SmtpReceiver::port() const { return state_->port; }

std::vector<ReceivedMail> SmtpReceiver::WaitFor(std::size_t n, std::chrono::milliseconds timeout) {
  std::unique_lock lock(state_->mu);
  state_->cv.wait_for(lock, timeout, [&] { return state_->mails.size() >= n; });
  return state_->mails;
}

}  // namespace ward::testing
