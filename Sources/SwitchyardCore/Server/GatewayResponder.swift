import Hummingbird
import HTTPTypes
import Logging
import NIOCore
import SwitchyardWire

/// The HTTP front: dispatches by path (query ignored), reads and validates the body once, builds
/// the `Call`, runs it through the current snapshot's pipeline and writes the `Reply` — bytes at
/// once, streams chunk by chunk with cancellation when the client goes away. Every answer it
/// writes itself is in the Anthropic error envelope.
public struct GatewayResponder: HTTPResponder {
    public typealias Context = GatewayRequestContext

    let holder: SnapshotHolder
    let logger: Logger
    let admission: AdmissionGate

    public init(holder: SnapshotHolder, logger: Logger, admission: AdmissionGate) {
        self.holder = holder
        self.logger = logger
        self.admission = admission
    }

    enum Endpoint: Equatable {
        case messages, countTokens, models, model(String), health, hello, metrics
    }

    static func endpoint(path: String) -> Endpoint? {
        var p = Substring(path)
        if p.hasPrefix("/anthropic/") { p = p.dropFirst("/anthropic".count) }
        while p.count > 1 && p.hasSuffix("/") { p = p.dropLast() }
        switch p {
        case "/v1/messages": return .messages
        case "/v1/messages/count_tokens": return .countTokens
        case "/v1/models": return .models
        case "/health": return .health
        case "/api/hello", "/": return .hello
        case "/metrics": return .metrics
        default:
            if p.hasPrefix("/v1/models/") { return .model(String(p.dropFirst("/v1/models/".count))) }
            return nil
        }
    }

    public func respond(to request: Request, context: Context) async throws -> Response {
        let snapshot = holder.current
        let requestID = Identifiers.requestID()
        var common = HTTPFields()
        common[.requestID] = requestID
        common[.switchyardConfig] = snapshot.configTag
        let method = request.method
        guard let endpoint = Self.endpoint(path: request.uri.path) else {
            return Self.errorResponse(.notFound("not found: this gateway serves POST /v1/messages, /v1/messages/count_tokens, GET /v1/models and /health"),
                                      requestID: requestID, headers: common)
        }
        switch (endpoint, method) {
        case (.health, .get), (.health, .head):
            return Self.json(200, HealthBody.render(snapshot), headers: common)
        case (.hello, .get), (.hello, .head):
            return Self.json(200, Array("{\"status\":\"ok\"}".utf8), headers: common)
        case (.models, .get):
            if let rejection = authReject(request, snapshot) { return Self.errorResponse(rejection, requestID: requestID, headers: common) }
            let anthropic = request.headers[.anthropicVersion] != nil || request.headers[.xAPIKey] != nil
            guard anthropic else { return Self.json(200, snapshot.modelsOpenAI, headers: common) }
            let query = request.uri.queryParameters
            let after = query["after_id"].map(String.init), before = query["before_id"].map(String.init)
            let limit = query["limit"].flatMap { Int(String($0)) }.map { min(max($0, 1), 1000) } ?? 20
            if after == nil && before == nil && limit == 20 { return Self.json(200, snapshot.modelsAnthropic, headers: common) }
            return Self.json(200, snapshot.modelsCatalog.anthropicPage(limit: limit, afterID: after, beforeID: before), headers: common)
        case (.model(let id), .get):
            if let rejection = authReject(request, snapshot) { return Self.errorResponse(rejection, requestID: requestID, headers: common) }
            guard let entry = snapshot.router.advertisedModels.first(where: { $0.id == id }) else {
                return Self.errorResponse(.notFound("model: \(quoted(id)) is not one this gateway lists"), requestID: requestID, headers: common)
            }
            let body = JSONWriter.encode(.object(["type": .string("model"), "id": .string(entry.id), "display_name": .string(entry.id),
                                                  "created_at": .string(ModelsCatalog.createdAt)]))
            return Self.json(200, body, headers: common)
        case (.metrics, .get) where snapshot.config.server.metricsListen == nil:
            return MetricsResponder.response()
        case (.messages, .post), (.countTokens, .post):
            guard admission.admits() else {
                return Self.errorResponse(.overloaded("the gateway is at its limit of \(admission.limit) open connections (server.max_connections); retry shortly"),
                                          requestID: requestID, headers: common, close: true)
            }
            let slot = AdmissionSlot()
            do {
                return try await handleCall(request, endpoint: endpoint, snapshot: snapshot, requestID: requestID, headers: common, slot: slot,
                                            connection: context.connection)
            } catch {
                slot.release()
                throw error
            }
        default:
            return Self.errorResponse(.methodNotAllowed("method \(method.rawValue) is not allowed on this endpoint"),
                                      requestID: requestID, headers: common)
        }
    }

    private func authReject(_ request: Request, _ snapshot: GatewaySnapshot) -> GatewayError? {
        if case .rejected(let message) = snapshot.authenticator.authenticate(Self.credential(request.headers)) {
            return .unauthenticated(message)
        }
        return nil
    }

    /// `x-api-key`, else `Authorization: Bearer`.
    static func credential(_ headers: HTTPFields) -> Secret? {
        if let key = headers[.xAPIKey], !key.isEmpty { return Secret(key) }
        if let auth = headers[.authorization] {
            let lower = auth.lowercased()
            if lower.hasPrefix("bearer ") { return Secret(String(auth.dropFirst(7)).trimmingCharacters(in: .whitespaces)) }
        }
        return nil
    }

}
