/// The local prompt-size estimate behind count_tokens, `min_input_tokens` routing, limiter
/// reservations and missing upstream usage (translation-spec §6): about four bytes of request
/// JSON per token, with base64 media counted as a fixed cost instead of by size.
public enum TokenEstimator {
    public static let tokensPerMedia = 1600

    public static func estimate(bodyBytes: Int, request: MessagesRequest) -> Int {
        estimate(bodyBytes: bodyBytes, mediaBytes: request.mediaBytes, mediaCount: request.mediaCount)
    }

    /// From the body size and the inline media it holds.
    public static func estimate(bodyBytes: Int, mediaBytes: Int, mediaCount: Int) -> Int {
        let textBytes = max(bodyBytes - mediaBytes, 0)
        return max(1, (textBytes + 3) / 4 + min(mediaCount, 1_000_000) * tokensPerMedia)
    }
}
