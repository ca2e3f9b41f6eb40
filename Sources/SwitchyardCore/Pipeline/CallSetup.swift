import SwitchyardWire

/// Turns what the server read into a `Call`: the strict decode, the redaction of a token sent
/// as the model name, the token estimate and the route. The server and the stage test harness
/// both build calls here, so tests run the same setup the gateway does.
public enum CallSetup {
    /// A call for a request body that was read in full.
    public static func call(body: UnsafeRawBufferPointer, endpoint: Call.Endpoint, credential: Secret?, authOutcome: Authenticator.Outcome?,
                            router: RouteMatcher, authenticator: Authenticator,
                            anthropicBeta: String? = nil, anthropicVersion: String? = nil) -> Call {
        let purpose: MessagesRequest.Purpose = endpoint == .countTokens ? .countTokens : .messages
        var decoded: Result<MessagesRequest, GatewayError>
        do throws(RequestValidationError) {
            decoded = .success(try MessagesRequest.decode(body: body, purpose: purpose))
        } catch {
            decoded = .failure(.invalidRequest(error.description))
        }
        var estimate = 0
        var route: Route? = nil
        if case .success(var parsed) = decoded {
            // A client that sends a token as the model name must not see it echoed or logged.
            let token = credential?.exposedValue ?? ""
            if (token.count >= 8 && parsed.model.contains(token)) || authenticator.isToken(parsed.model) {
                parsed.model = "(redacted)"
                parsed.raw["model"] = .string("(redacted)")
                decoded = .success(parsed)
            }
            estimate = TokenEstimator.estimate(bodyBytes: body.count, request: parsed)
            route = router.route(model: parsed.model, thinking: parsed.thinkingEnabled, estimatedInputTokens: estimate)
        }
        var call = Call(endpoint: endpoint, decoded: decoded, route: route, bodyBytes: body.count, estimatedInputTokens: estimate,
                        credential: credential, anthropicBeta: anthropicBeta, anthropicVersion: anthropicVersion)
        call.authOutcome = authOutcome
        return call
    }

    /// A call refused by authentication from its headers alone: its body is never read or
    /// parsed, so an unauthenticated client costs a header check and a log line.
    public static func unauthenticated(endpoint: Call.Endpoint, message: String) -> Call {
        var call = Call(endpoint: endpoint, decoded: .failure(.unauthenticated(message)), route: nil, bodyBytes: 0,
                        estimatedInputTokens: 0, credential: nil)
        call.authOutcome = .rejected(message)
        return call
    }
}
