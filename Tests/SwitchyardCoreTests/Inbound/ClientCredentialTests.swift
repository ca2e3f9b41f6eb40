import SwitchyardCore
import Testing

/// Which credential a client presents, as both server paths read it.
@Suite struct ClientCredentialTests {
    func read(apiKey: String? = nil, authorization: String? = nil) -> String? {
        ClientCredential.from(apiKey: apiKey, authorization: authorization)?.exposedValue
    }

    @Test func xAPIKeyWinsOverABearerToken() {
        #expect(read(apiKey: "sy-key", authorization: "Bearer sy-bearer") == "sy-key")
    }

    @Test func anEmptyXAPIKeyFallsBackToTheBearerToken() {
        #expect(read(apiKey: "", authorization: "Bearer sy-bearer") == "sy-bearer")
    }

    @Test func theBearerSchemeIsCaseInsensitiveAndTheTokenTrimmed() {
        #expect(read(authorization: "bearer  sy-token ") == "sy-token")
        #expect(read(authorization: "BEARER sy-token") == "sy-token")
    }

    @Test func otherSchemesAndNoHeadersGiveNoCredential() {
        #expect(read(authorization: "Basic c3k6cHc=") == nil)
        #expect(read(authorization: "Bearer") == nil)
        #expect(read() == nil)
    }
}
