// SPDX-License-Identifier: Apache-2.0
#include "ward/tray/agent_connection.h"

#include <QMetaObject>
#include <QTimer>

#include <exception>
#include <filesystem>
#include <memory>

#include "internal/notice_watcher.h"
#include "ward/agent/ipc/ipc_client.h"
#include "ward/common/log.h"

namespace ward::tray {
namespace internal {

// Owns the IpcClient on the worker thread. Every result is posted back to the AgentConnection,
// whose signals then fire on the GUI thread. Confined to the worker thread.
class AgentWorker final : public QObject, public agent::ipc::NoticeSink {
 public:
  AgentWorker(QString socket_path, AgentConnection* facade)
      : socket_path_(std::move(socket_path)), facade_(facade) {}
  // The watcher goes before the client closes the handle it waits on.
  ~AgentWorker() override { StopWatching(notifier_); }
  AgentWorker(const AgentWorker&) = delete;
  AgentWorker& operator=(const AgentWorker&) = delete;

  void Start() {
    retry_ = new QTimer(this);
    retry_->setInterval(3000);
    QObject::connect(retry_, &QTimer::timeout, this, [this] { TryConnect(); });
    TryConnect();
  }

  // Runs `call` with a connected client; on a lost connection reconnects later.
  template <typename Call>
  void WithClient(Call call) {
    try {
      if (client_ == nullptr) {
        TryConnect();
      }
      call(client_.get());
      if (client_ != nullptr && !client_->connected()) {
        Disconnect();
      }
    } catch (const std::exception& e) {
      log::Error("tray ipc call failed with an exception", {{"what", e.what()}});
    }
  }

  // Called on this thread by IpcClient while it reads.
  void Notify(v1::Notice notice) override {
    Post([notice](AgentConnection* f) { emit f->noticeReceived(notice); });
  }

  template <typename F>
  void Post(F f) {
    AgentConnection* facade = facade_;
    QMetaObject::invokeMethod(
        facade, [facade, f = std::move(f)] { f(facade); }, Qt::QueuedConnection);
  }

 private:
  void TryConnect() {
    if (client_ != nullptr) {
      return;
    }
    auto client = agent::ipc::IpcClient::Connect(
        {.endpoint = std::filesystem::path(socket_path_.toStdWString()),
         .request_timeout = std::chrono::seconds(15)},
        this);
    if (!client) {
      retry_->start();
      return;
    }
    client_ = std::move(*client);
    if (auto subscribed = client_->Subscribe(); !subscribed) {
      log::Warning("tray could not subscribe to notices",
                   {{"error", subscribed.error().ToString()}});
    }
    if (!client_->connected()) {
      client_.reset();
      retry_->start();
      return;
    }
    retry_->stop();
    notifier_ = WatchNotices(
        client_->native_handle(),
        [this] {
          if (client_ == nullptr) {
            return;
          }
          if (auto pumped = client_->PumpNotices(std::chrono::milliseconds(0)); !pumped) {
            Disconnect();
          }
        },
        this);
    Post([](AgentConnection* f) { f->setConnected(true); });
  }

  void Disconnect() {
    StopWatching(notifier_);
    notifier_ = nullptr;
    client_.reset();
    retry_->start();
    Post([](AgentConnection* f) { f->setConnected(false); });
  }

  QString socket_path_;
  AgentConnection* facade_;
  std::unique_ptr<agent::ipc::IpcClient> client_;
  QObject* notifier_ = nullptr;  // WatchNotices(): a socket or event notifier
  QTimer* retry_ = nullptr;
};

}  // namespace internal

namespace {

QString NotConnectedMessage() {
  return AgentConnection::tr(
      "Ward isn't running on this laptop right now, so this can't be sent. "
      "Please tell a member of staff you trust.");
}

QString FromError(const Error& error) {
  if (error.code() == ErrorCode::kUnavailable || error.code() == ErrorCode::kDeadlineExceeded) {
    return NotConnectedMessage();
  }
  return QString::fromStdString(error.message());
}

}  // namespace

AgentConnection::AgentConnection(QString socket_path, QObject* parent)
    : QObject(parent), worker_(new internal::AgentWorker(std::move(socket_path), this)) {
  thread_.setObjectName(QStringLiteral("ward-tray-ipc"));
  worker_->moveToThread(&thread_);
  connect(&thread_, &QThread::finished, worker_, &QObject::deleteLater);
  thread_.start();
  QMetaObject::invokeMethod(worker_, [w = worker_] { w->Start(); }, Qt::QueuedConnection);
}

AgentConnection::~AgentConnection() {
  thread_.quit();
  thread_.wait();
}

void AgentConnection::setConnected(bool connected) {
  if (connected_ == connected) {
    return;
  }
  connected_ = connected;
  emit connectedChanged(connected);
}

namespace {

// Runs `call(client)` on the worker thread and posts `ok(facade, value)` or
// `fail(facade, message, retry_after_seconds)` back to the GUI thread.
template <typename Call, typename Ok, typename Fail>
void RunOnWorker(internal::AgentWorker* worker, Call call, Ok ok, Fail fail) {
  QMetaObject::invokeMethod(worker, [worker, call, ok, fail] {
    worker->WithClient([&](agent::ipc::IpcClient* client) {
      if (client == nullptr) {
        worker->Post([fail](AgentConnection* f) { fail(f, NotConnectedMessage(), 0u); });
        return;
      }
      auto result = call(*client);
      if (!result) {
        worker->Post([fail, m = FromError(result.error()),
                      retry = client->last_retry_after_seconds()](AgentConnection* f) {
          fail(f, m, retry);
        });
        return;
      }
      worker->Post([ok, value = std::move(*result)](AgentConnection* f) { ok(f, value); });
    });
  });
}

}  // namespace

void AgentConnection::requestStatus() {
  RunOnWorker(
      worker_, [](agent::ipc::IpcClient& c) { return c.Status(); },
      [](AgentConnection* f, const v1::StatusResponse& s) { emit f->statusReceived(s); },
      [](AgentConnection* f, const QString& m, quint32) { emit f->statusFailed(m); });
}

void AgentConnection::requestPolicy() {
  RunOnWorker(
      worker_, [](agent::ipc::IpcClient& c) { return c.PolicySummary(); },
      [](AgentConnection* f, const v1::PolicySummaryResponse& p) { emit f->policyReceived(p); },
      [](AgentConnection* f, const QString& m, quint32) { emit f->policyFailed(m); });
}

void AgentConnection::submitConcern(const v1::SubmitConcernRequest& request) {
  RunOnWorker(
      worker_, [request](agent::ipc::IpcClient& c) { return c.SubmitConcern({}, request); },
      [](AgentConnection* f, const v1::SubmitConcernResponse& r) {
        emit f->concernSent(QString::fromStdString(r.reference()));
      },
      [](AgentConnection* f, const QString& m, quint32 retry) { emit f->concernFailed(m, retry); });
}

void AgentConnection::acceptAup(quint32 version) {
  RunOnWorker(
      worker_,
      [version](agent::ipc::IpcClient& c) -> Result<quint32> {
        v1::AcceptAupRequest request;
        request.set_aup_version(version);
        WARD_RETURN_IF_ERROR(c.AcceptAup({}, request));
        return version;
      },
      [](AgentConnection* f, quint32 v) { emit f->aupAccepted(v); },
      [](AgentConnection* f, const QString& m, quint32) { emit f->aupFailed(m); });
}

}  // namespace ward::tray
