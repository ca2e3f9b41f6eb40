import SwitchyardWire

/// One client request as it travels down the pipeline.
public struct Call: Sendable {
    /// What the client asked for.
    public enum Endpoint: String, Sendable {
        case messages
        case countTokens = "count_tokens"
        case chatCompletions = "chat_completions"

        /// The protocol the client speaks on this endpoint (the envelope of its errors).
        public var inboundProtocol: InboundProtocol { self == .chatCompletions ? .openAI : .anthropic }
    }

    public var endpoint: Endpoint
    /// The validated request, or the 400 that validation produced; stages after auth call
    /// `parsed()` so that a missing credential is reported before a malformed body.
    public var decoded: Result<InboundRequest, GatewayError>
    /// The route chosen for the request (set when decoding succeeded).
    public var route: Route?
    public var bodyBytes: Int
    public var estimatedInputTokens: Int
    /// The client's credential (`x-api-key` or `Authorization: Bearer`); never forwarded.
    public var credential: Secret?
    /// `anthropic-beta` and `anthropic-version`, forwarded only to Anthropic-native upstreams.
    public var anthropicBeta: String?
    public var anthropicVersion: String?
    /// The authentication outcome when the server checked the credential before reading the
    /// body (the auth stage then reuses it); nil means the auth stage checks it itself.
    public var authOutcome: Authenticator.Outcome?
    /// Set by the translator for the transport: what to send upstream.
    public var upstream: UpstreamRequest?

    public init(
        endpoint: Endpoint, decoded: Result<InboundRequest, GatewayError>, route: Route?, bodyBytes: Int,
        estimatedInputTokens: Int, credential: Secret?, anthropicBeta: String? = nil, anthropicVersion: String? = nil
    ) {
        self.endpoint = endpoint
        self.decoded = decoded
        self.route = route
        self.bodyBytes = bodyBytes
        self.estimatedInputTokens = estimatedInputTokens
        self.credential = credential
        self.anthropicBeta = anthropicBeta
        self.anthropicVersion = anthropicVersion
    }

    /// The validated request, or the validation error.
    public func parsed() throws -> InboundRequest {
        try decoded.get()
    }
}

/// The HTTP request the transport sends upstream.
public struct UpstreamRequest: Sendable {
    public var url: String
    public var headers: [(String, String)]
    public var body: [UInt8]
    public var stream: Bool
}
