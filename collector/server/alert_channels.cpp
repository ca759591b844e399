// SPDX-License-Identifier: Apache-2.0
// The two ways a concern alert leaves the collector: an HTTPS webhook and SMTP e-mail, both
// through Poco::Net. Poco throws; everything is caught here and turned into Status.
#include <Poco/Exception.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/MailMessage.h>
#include <Poco/Net/MailRecipient.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/RejectCertificateHandler.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/SecureSMTPClientSession.h>
#include <Poco/URI.h>

#include <array>
#include <mutex>

#include "ward/collector/server/alerts.h"

namespace ward::collector {
namespace {

void InitialiseSslOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    Poco::Net::initializeSSL();
    // A certificate that fails verification is refused, never asked about on a console.
    Poco::Net::SSLManager::instance().initializeClient(
        nullptr, new Poco::Net::RejectCertificateHandler(false),
        new Poco::Net::Context(Poco::Net::Context::CLIENT_USE, "", "", "",
                               Poco::Net::Context::VERIFY_STRICT, 9, true));
  });
}

Result<Poco::Net::Context::Ptr> ClientContext(const std::filesystem::path& ca_file) {
  InitialiseSslOnce();
  if (!ca_file.empty() && !std::filesystem::is_regular_file(ca_file)) {
    return InvalidArgumentError("cannot read CA file " + ca_file.string());
  }
  try {
    Poco::Net::Context::Ptr context = new Poco::Net::Context(
        Poco::Net::Context::CLIENT_USE, "", "", ca_file.string(), Poco::Net::Context::VERIFY_STRICT,
        9, ca_file.empty(), "HIGH:!aNULL:!MD5:!RC4");
    context->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
    return context;
  } catch (const Poco::Exception& e) {
    return InvalidArgumentError("cannot set up TLS with CA file '" + ca_file.string() +
                                "': " + e.displayText());
  }
}

class WebhookChannel final : public AlertChannel {
 public:
  WebhookChannel(WebhookConfig config, Poco::Net::Context::Ptr context)
      : config_(std::move(config)), context_(std::move(context)), uri_(config_.url) {}

  std::string_view name() const override { return "webhook"; }

  Status Deliver(const AlertMessage& message) override {
    const std::string body = AlertJson(message);
    try {
      Poco::Net::HTTPSClientSession session(uri_.getHost(), uri_.getPort(), context_);
      session.setTimeout(Poco::Timespan(config_.timeout.count(), 0));
      Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_POST,
                                     uri_.getPathAndQuery().empty() ? "/" : uri_.getPathAndQuery(),
                                     Poco::Net::HTTPMessage::HTTP_1_1);
      request.setContentType("application/json");
      request.setContentLength(static_cast<std::streamsize>(body.size()));
      request.set("User-Agent", "ward-collector");
      request.set("X-Ward-Signature", WebhookSignature(config_.secret, body));
      // Alerts are sent at least once (again after a crash): the receiver drops repeats by this.
      request.set("Idempotency-Key", message.concern_id);
      session.sendRequest(request) << body;
      Poco::Net::HTTPResponse response;
      std::istream& in = session.receiveResponse(response);
      // Read (a bounded amount of) the answer so the exchange completes cleanly.
      std::array<char, 4096> sink{};
      for (int i = 0; i < 16 && in.read(sink.data(), sink.size()); ++i) {
      }
      const int status = static_cast<int>(response.getStatus());
      if (status < 200 || status > 299) {
        return UnavailableError("the webhook answered " + std::to_string(status));
      }
      return OkStatus();
    } catch (const Poco::Exception& e) {
      return UnavailableError("webhook " + uri_.getHost() + ": " + e.displayText());
    } catch (const std::exception& e) {
      return UnavailableError("webhook " + uri_.getHost() + ": " + e.what());
    }
  }

 private:
  const WebhookConfig config_;
  Poco::Net::Context::Ptr context_;
  const Poco::URI uri_;
};

class SmtpChannel final : public AlertChannel {
 public:
  SmtpChannel(SmtpConfig config, Poco::Net::Context::Ptr context)
      : config_(std::move(config)), context_(std::move(context)) {}

  std::string_view name() const override { return "email"; }

  Status Deliver(const AlertMessage& message) override {
    try {
      const Poco::Timespan timeout(config_.timeout.count(), 0);
      // Constructed from the host name (not a socket) so STARTTLS verifies the certificate
      // against it.
      Poco::Net::SecureSMTPClientSession session(config_.host, config_.port);
      session.setTimeout(timeout);
      session.login();  // EHLO
      bool tls = false;
      if (config_.starttls != SmtpConfig::StartTls::kOff) {
        tls = session.startTLS(context_);
        if (!tls && config_.starttls == SmtpConfig::StartTls::kRequired) {
          session.close();
          return UnavailableError("the mail server " + config_.host +
                                  " does not accept STARTTLS, which smtp_starttls requires");
        }
      }
      if (!config_.user.empty()) {
        if (!tls) {
          session.close();
          return UnavailableError("the mail server " + config_.host +
                                  " offers no STARTTLS; the password is never sent in clear");
        }
        session.login(Poco::Net::SMTPClientSession::AUTH_LOGIN, config_.user, config_.password);
      } else if (tls) {
        session.login();  // EHLO again over TLS, as RFC 3207 requires
      }
      Poco::Net::MailMessage mail;
      mail.setSender(config_.from);
      for (const std::string& to : config_.to) {
        mail.addRecipient(
            Poco::Net::MailRecipient(Poco::Net::MailRecipient::PRIMARY_RECIPIENT, to));
      }
      mail.setSubject(AlertEmailSubject(message));
      mail.set("Auto-Submitted", "auto-generated");
      // The same id for every copy of one concern's alert (sent again after a crash), so mail
      // systems that drop repeated Message-IDs show it once.
      const std::size_t at = config_.from.rfind('@');
      mail.set("Message-ID", "<ward-concern-" + message.concern_id + "@" +
                                 (at == std::string::npos ? std::string("ward.invalid")
                                                          : config_.from.substr(at + 1)) +
                                 ">");
      if (message.urgent) {
        mail.set("Importance", "high");
        mail.set("X-Priority", "1");
      }
      mail.setContentType("text/plain; charset=UTF-8");
      // Quoted-printable: the site name may not be ASCII.
      mail.setContent(AlertEmailText(message), Poco::Net::MailMessage::ENCODING_QUOTED_PRINTABLE);
      session.sendMessage(mail);
      session.close();
      return OkStatus();
    } catch (const Poco::Exception& e) {
      return UnavailableError("mail server " + config_.host + ": " + e.displayText());
    } catch (const std::exception& e) {
      return UnavailableError("mail server " + config_.host + ": " + e.what());
    }
  }

 private:
  const SmtpConfig config_;
  Poco::Net::Context::Ptr context_;
};

}  // namespace

Result<std::unique_ptr<AlertChannel>> CreateWebhookChannel(const WebhookConfig& config) {
  try {
    const Poco::URI uri(config.url);
    if (uri.getScheme() != "https" || uri.getHost().empty()) {
      return InvalidArgumentError("webhook_url must be an https:// URL, got '" + config.url + "'");
    }
  } catch (const Poco::Exception& e) {
    return InvalidArgumentError("webhook_url '" + config.url +
                                "' is not a URL: " + e.displayText());
  }
  if (config.secret.size() < 16) {
    return InvalidArgumentError(
        "the webhook secret must be at least 16 characters (webhook_secret_file)");
  }
  WARD_ASSIGN_OR_RETURN(auto context, ClientContext(config.ca_file));
  return std::unique_ptr<AlertChannel>(std::make_unique<WebhookChannel>(config, context));
}

Result<std::unique_ptr<AlertChannel>> CreateSmtpChannel(const SmtpConfig& config) {
  if (config.host.empty() || config.from.empty() || config.to.empty()) {
    return InvalidArgumentError("e-mail alerts need smtp_host, smtp_from and smtp_to");
  }
  if (!config.user.empty() && config.starttls == SmtpConfig::StartTls::kOff) {
    return InvalidArgumentError("smtp_user needs STARTTLS: the password is never sent in clear");
  }
  WARD_ASSIGN_OR_RETURN(auto context, ClientContext(config.ca_file));
  return std::unique_ptr<AlertChannel>(std::make_unique<SmtpChannel>(config, context));
}

}  // namespace ward::collector
