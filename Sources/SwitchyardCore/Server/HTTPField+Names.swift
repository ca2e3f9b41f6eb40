import HTTPTypes

/// Header names the gateway reads or writes, parsed once.
extension HTTPField.Name {
    static let requestID = HTTPField.Name("request-id")!
    static let switchyardConfig = HTTPField.Name("switchyard-config")!
    static let xAPIKey = HTTPField.Name("x-api-key")!
    static let anthropicBeta = HTTPField.Name("anthropic-beta")!
    static let anthropicVersion = HTTPField.Name("anthropic-version")!
}
