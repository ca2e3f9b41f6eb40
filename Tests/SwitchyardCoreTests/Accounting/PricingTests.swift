import SwitchyardCore
import SwitchyardTesting
import SwitchyardWire
import Testing

@Suite struct PricingTests {
    @Test(
        arguments: [
            ("3.00", 3_000_000), ("0.30", 300_000), ("0", 0), ("0.0125", 12_500), ("1000", 1_000_000_000), (".5", 500_000),
            ("3.0000001", nil), ("-1", nil), ("1e3", nil), ("", nil), ("abc", nil), ("1.2.3", nil),
        ] as [(String, Int64?)])
    func pricesParseExactly(_ c: (String, Int64?)) {
        #expect(Money.picoPerToken(usdPerMillion: c.0) == c.1)
    }

    @Test func costIsExactWithCacheTokensPricedSeparately() throws {
        // $3/M input, $15/M output, $0.30/M cache read, $3.75/M cache write.
        let price = Price(input: 3_000_000, output: 15_000_000, cacheRead: 300_000, cacheWrite: 3_750_000)
        let usage = try #require(
            Usage(
                openAI: try JSONParser.parse(
                    #"{"prompt_tokens":1000,"completion_tokens":200,"prompt_tokens_details":{"cached_tokens":600,"cache_write_tokens":100}}"#)))
        #expect(usage.inputTokens == 300)
        // 300×3 + 200×15 + 600×0.3 + 100×3.75 = 900 + 3000 + 180 + 375 = 4455 micro-dollars
        #expect(price.costMicroUSD(usage) == 4455)
    }

    @Test func cacheDefaultsFollowTheInputPrice() {
        let price = Price(input: 2_000_000, output: 8_000_000)
        #expect(price.cacheRead == 2_000_000)
        #expect(price.cacheWrite == 2_500_000)
    }

    @Test func microDollarRoundingIsHalfUpOnceOnTheWholeSum() {
        // 1 token at $0.0015/M = 1500 pico = 0.0015 micro each: three kinds sum to 0.0045 → 0,
        // never three separately rounded amounts.
        let price = Price(input: 1_500, output: 1_500, cacheRead: 1_500, cacheWrite: 1_500)
        #expect(price.costMicroUSD(Usage(inputTokens: 1, outputTokens: 1, cacheReadInputTokens: 1)) == 0)
        #expect(price.costMicroUSD(Usage(inputTokens: 333, outputTokens: 0)) == 0)  // 0.4995 → 0
        #expect(price.costMicroUSD(Usage(inputTokens: 334, outputTokens: 0)) == 1)  // 0.501 → 1
    }

    @Test func theLargestCostDoesNotOverflow() {
        let price = Price(input: 1_000_000_000, output: 1_000_000_000, cacheRead: 1_000_000_000, cacheWrite: 1_000_000_000)
        let usage = Usage(
            inputTokens: Usage.maxTokens, outputTokens: Usage.maxTokens, cacheReadInputTokens: Usage.maxTokens,
            cacheCreationInputTokens: Usage.maxTokens)
        #expect(price.costMicroUSD(usage) == 4_000_000_000_000)
    }

    @Test func upstreamCostWinsWhereTheProviderSaysSoElseThePriceTable() throws {
        let config = try StageHarness.config(
            """
            providers:
              or: { base_url: "https://openrouter.ai/api/v1", prices: { "a/*": { input: 1, output: 2 } } }
              fixed: { base_url: "http://127.0.0.1:9/v1", cost: prices, prices: { "*": { input: 1, output: 2 } } }
            routes:
              - { name: r, match: { models: ["*"] }, targets: [ { provider: or, model: a/x }, { provider: or, model: b/y }, { provider: fixed, model: z } ] }
            """)
        let book = CostBook(config: config)
        let usage = try #require(Usage(openAI: try JSONParser.parse(#"{"prompt_tokens":10,"completion_tokens":5,"cost":0.00042}"#)))
        #expect(book.cost(target: "or:a/x", usage: usage) == (420, "upstream"))
        #expect(book.cost(target: "fixed:z", usage: usage) == (20, "prices"))  // 10×1 + 5×2
        let noCost = Usage(inputTokens: 10, outputTokens: 5)
        #expect(book.cost(target: "or:a/x", usage: noCost) == (20, "prices"))
        #expect(book.cost(target: "or:b/y", usage: noCost) == (nil, nil))  // unpriced, nothing reported
        #expect(book.cost(target: "or:b/y", usage: nil) == (0, nil))  // no answer: nothing spent
        #expect(ConfigWarnings.all(config).isEmpty)  // no budgets: nothing to warn about
    }

    @Test func aBudgetThatCanReachAnUnpricedTargetIsWarnedAbout() throws {
        let config = try StageHarness.config(
            """
            providers: { up: { base_url: "http://127.0.0.1:9/v1", cost: prices } }
            routes: [ { name: r, match: { models: ["*"] }, targets: [ { provider: up, model: free } ], limits: { budget: { usd: 5 } } } ]
            """)
        #expect(ConfigWarnings.all(config).contains { $0.contains("route r") && $0.contains("up:free") })
    }

    @Test(arguments: ["-1", "1e3", "abc", "0.0000001"]) func badBudgetsAreConfigErrors(_ usd: String) {
        #expect(throws: ConfigError.self) {
            try StageHarness.config(
                """
                providers: { up: { base_url: "http://127.0.0.1:9/v1" } }
                routes: [ { name: r, match: { models: ["*"] }, targets: [ { provider: up, model: m } ] } ]
                limits: { per_user: { budget: { usd: "\(usd)" } } }
                """)
        }
    }
}
