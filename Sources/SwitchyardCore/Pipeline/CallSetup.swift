import SwitchyardWire

/// Turns what the server read into a `Call`: the strict decode, the redaction of a token sent
/// as the model name, the token estimate and the route. The server and the stage test harness
/// both build calls here, so tests run the same setup the gateway does.
public enum CallSetup {
    /// A call for a request body that was read in full.
    public static func call(
        body: UnsafeRawBufferPointer, endpoint: Call.Endpoint, credential: Secret?, authOutcome: Authenticator.Outcome?,
        router: RouteMatcher, authenticator: Authenticator,
        anthropicBeta: String? = nil, anthropicVersion: String? = nil
    ) -> Call {
        var decoded = decode(body: body, endpoint: endpoint)
        var estimate = 0
        var route: Route? = nil
        if case .success(var parsed) = decoded {
            // A client that sends a token as the model name must not see it echoed or logged.
            let token = credential?.exposedValue ?? ""
            if (token.count >= 8 && parsed.model.contains(token)) || authenticator.isToken(parsed.model) {
                parsed = parsed.withModel("(redacted)")
                decoded = .success(parsed)
            }
            estimate = parsed.estimatedInputTokens(bodyBytes: body.count)
            route = router.route(model: parsed.model, thinking: parsed.thinkingEnabled, estimatedInputTokens: estimate)
        }
        var call = Call(
            endpoint: endpoint, decoded: decoded, route: route, bodyBytes: body.count, estimatedInputTokens: estimate,
            credential: credential, anthropicBeta: anthropicBeta, anthropicVersion: anthropicVersion)
        call.authOutcome = authOutcome
        return call
    }

    /// The strict decode of the endpoint's protocol; a violation is a 400 naming the field.
    static func decode(body: UnsafeRawBufferPointer, endpoint: Call.Endpoint) -> Result<InboundRequest, GatewayError> {
        do throws(RequestValidationError) {
            switch endpoint {
            case .messages: return .success(.messages(try MessagesRequest.decode(body: body, purpose: .messages)))
            case .countTokens: return .success(.messages(try MessagesRequest.decode(body: body, purpose: .countTokens)))
            case .chatCompletions: return .success(.chat(try ChatCompletionRequest.decode(body: body)))
            }
        } catch {
            return .failure(.invalidRequest(error.description))
        }
    }

    /// A call refused by authentication from its headers alone: its body is never read or
    /// parsed, so an unauthenticated client costs a header check and a log line.
    public static func unauthenticated(endpoint: Call.Endpoint, message: String) -> Call {
        var call = Call(
            endpoint: endpoint, decoded: .failure(.unauthenticated(message)), route: nil, bodyBytes: 0,
            estimatedInputTokens: 0, credential: nil)
        call.authOutcome = .rejected(message)
        return call
    }
}
