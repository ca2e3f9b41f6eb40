import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import SwitchyardWire

/// Everything but the calls, through Hummingbird: health, models, usage, metrics, the page, and
/// the errors for unknown paths and methods (the calls themselves — POST to the messages,
/// count_tokens and chat completions paths — are served by `CallChannelHandler` before a request
/// reaches Hummingbird). Errors are in the envelope of the path's protocol.
public struct GatewayResponder: HTTPResponder {
    public typealias Context = BasicRequestContext

    let holder: SnapshotHolder

    public init(holder: SnapshotHolder) {
        self.holder = holder
    }

    public func respond(to request: Request, context: Context) async throws -> Response {
        let snapshot = holder.current
        let requestID = Identifiers.requestID()
        var common = HTTPFields()
        common[.requestID] = requestID
        common[.switchyardConfig] = snapshot.configTag
        let method = request.method
        guard let endpoint = InboundEndpoint(path: request.uri.path) else {
            return Self.errorResponse(
                .notFound("not found: this gateway serves POST /v1/messages, /v1/messages/count_tokens, /v1/chat/completions, GET /v1/models and /health"),
                requestID: requestID, headers: common)
        }
        switch (endpoint, method) {
        case (.health, .get), (.health, .head):
            return Self.json(200, HealthBody.render(snapshot), headers: common)
        case (.hello, .get), (.hello, .head):
            return Self.json(200, Array("{\"status\":\"ok\"}".utf8), headers: common)
        case (.models, .get):
            let anthropic = request.headers[.anthropicVersion] != nil || request.headers[.xAPIKey] != nil
            let query = request.uri.queryParameters
            let answer = ModelsEndpoint.list(
                snapshot, credential: Self.credential(request.headers), shape: anthropic ? .anthropic : .openAI,
                limit: query["limit"].map(String.init), afterID: query["after_id"].map(String.init),
                beforeID: query["before_id"].map(String.init))
            return Self.answer(answer, requestID: requestID, headers: common)
        case (.model(let id), .get):
            return Self.answer(ModelsEndpoint.model(snapshot, credential: Self.credential(request.headers), id: id), requestID: requestID, headers: common)
        case (.metrics, .get) where snapshot.config.server.metricsListen == nil:
            return MetricsResponder.response(snapshot.state.metrics)
        case (.usage, .get):
            let parameters = Dictionary(request.uri.queryParameters.map { (String($0.key), String($0.value)) }, uniquingKeysWith: { a, _ in a })
            return Self.answer(
                await UsageAPI.usage(snapshot, credential: Self.credential(request.headers), parameters: parameters),
                requestID: requestID, headers: common)
        case (.usageBudget, .get):
            return Self.answer(await UsageAPI.budget(snapshot, credential: Self.credential(request.headers)), requestID: requestID, headers: common)
        case (.ui, .get) where snapshot.config.server.adminListen == nil:
            return await AdminResponder.page(request.headers, snapshot: snapshot, loopback: Self.isLoopback(snapshot.config.server.host))
        case (.ui, _) where snapshot.config.server.adminListen != nil, (.metrics, _) where snapshot.config.server.adminListen != nil:
            return Self.errorResponse(.notFound("not found: /metrics and /ui are served on server.admin_listen"), requestID: requestID, headers: common)
        default:
            return Self.errorResponse(
                .methodNotAllowed("method \(method.rawValue) is not allowed on this endpoint"),
                requestID: requestID, headers: common, inbound: endpoint.callEndpoint?.inboundProtocol ?? .anthropic)
        }
    }

    static func answer(_ result: Result<[UInt8], GatewayError>, requestID: String, headers: HTTPFields) -> Response {
        switch result {
        case .success(let body): return json(200, body, headers: headers)
        case .failure(let error): return errorResponse(error, requestID: requestID, headers: headers)
        }
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// The client's credential from Hummingbird's header fields.
    static func credential(_ headers: HTTPFields) -> Secret? {
        ClientCredential.from(apiKey: headers[.xAPIKey], authorization: headers[.authorization])
    }
}
