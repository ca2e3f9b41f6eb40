import Foundation
import Logging
import SwitchyardCore
import SwitchyardWire

// Translation micro-benchmarks: request (small and Claude Code-sized), non-streamed response, and
// stream chunks. `swift run -c release SwitchyardBenchmarks` measures; `--smoke` runs each case
// briefly to prove the harness works (CI), and its numbers mean nothing.

let arguments = CommandLine.arguments
let smoke = arguments.contains("--smoke")
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()

func load(_ name: String) -> [UInt8]? {
    (try? Data(contentsOf: root.appendingPathComponent("fixtures/\(name)"))).map { [UInt8]($0) }
}

/// Runs `body` in rounds and reports the median time per operation.
func measure(_ name: String, operations: Int = 1, _ body: () -> Void) {
    let rounds = smoke ? 3 : 15
    let minRoundNanos: UInt64 = smoke ? 2_000_000 : 100_000_000
    for _ in 0..<(smoke ? 1 : 20) { body() }  // warm-up
    var perOp: [Double] = []
    for _ in 0..<rounds {
        var iterations = 0
        let start = DispatchTime.now().uptimeNanoseconds
        var elapsed: UInt64 = 0
        repeat {
            body()
            iterations += 1
            elapsed = DispatchTime.now().uptimeNanoseconds - start
        } while elapsed < minRoundNanos
        perOp.append(Double(elapsed) / Double(iterations * operations))
    }
    perOp.sort()
    let median = perOp[perOp.count / 2]
    let text = median >= 1_000_000 ? String(format: "%.3f ms", median / 1e6) : String(format: "%.2f µs", median / 1e3)
    print(name.padding(toLength: 58, withPad: " ", startingAt: 0) + text.leftPadded(14) + "   (min \(String(format: "%.2f µs", perOp[0] / 1e3)))")
}

extension String {
    func leftPadded(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}

let smallRequest = Array(
    #"{"model":"claude-sonnet-4-5","max_tokens":1024,"system":"Be brief.","messages":[{"role":"user","content":"Say hello in one word."}]}"#.utf8)
let bigRequest = load("claude-code-request.json")
let options = TranslationOptions(dialect: .openrouter, upstreamModel: "openai/gpt-oss-120b:free")

print(smoke ? "SMOKE (not a measurement): translation micro-benchmarks" : "Translation micro-benchmarks (median per operation)")

func translateRequest(_ body: [UInt8]) -> Int {
    guard let request = try? MessagesRequest.decode(body: body) else { fatalError("fixture does not validate") }
    var builder = ChatRequestBuilder(options: options)
    return builder.encode(request).count
}

measure("request: small, decode + validate + translate + encode") { _ = translateRequest(smallRequest) }
if let bigRequest {
    measure("request: Claude Code \(bigRequest.count / 1024) KB, decode + translate + encode") { _ = translateRequest(bigRequest) }
    measure("request: Claude Code \(bigRequest.count / 1024) KB, JSON parse only") { _ = try? JSONParser.parse(bigRequest) }
} else {
    print("request: Claude Code fixture missing (Benchmarks/fixtures/claude-code-request.json)")
}

let response = Array(
    #"{"id":"gen-1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Reading both files now.","tool_calls":[{"id":"call_1","type":"function","function":{"name":"Read","arguments":"{\"file_path\":\"/a/b.swift\"}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":1200,"completion_tokens":40,"total_tokens":1240,"prompt_tokens_details":{"cached_tokens":1000}}}"#
        .utf8)
let context = ResponseContext(clientModel: "claude-sonnet-4-5", estimatedInputTokens: 100)
measure("response: non-streamed text + tool call") { _ = try? ChatResponseTranslator.translate(body: response, context: context) }

// A long stream: one role chunk, then text deltas, then a finish with usage.
let chunkCount = 1000
var stream: [[UInt8]] = [
    Array(
        #"data: {"id":"gen-1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}"#.utf8
            + [10, 10])
]
for i in 0..<chunkCount {
    stream.append(
        Array(
            #"data: {"id":"gen-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"token \#(i) "},"finish_reason":null}]}"#
                .utf8 + [10, 10]))
}
stream.append(
    Array(
        #"data: {"id":"gen-1","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":1000}}"#.utf8 + [
            10, 10,
        ]))
stream.append(Array("data: [DONE]\n\n".utf8))
measure("stream: per text chunk (feed + emit + take)", operations: stream.count) {
    var t = ChatStreamTranslator(context: context)
    for chunk in stream {
        try? t.feed(chunk)
        _ = t.takeOutput()
    }
}

// The usage ledger: what a request pays (build the record and queue it) and the rate at which the
// writer's batches go into the embedded SQLite store.
func ledgerRecord(_ i: Int) -> UsageRecord {
    UsageRecord(
        timeMs: 1_796_284_800_000 + Int64(i), requestID: "req_bench_\(i)", instance: "bench", user: "alice", route: "sonnet",
        endpoint: "messages", model: "claude-sonnet-4-5", target: "openrouter:openai/gpt-oss-120b:free", attempts: ["openrouter 200"],
        stream: true, status: 200, errorType: nil, inputTokens: 1200, outputTokens: 40, cacheReadTokens: 1000, cacheWriteTokens: 0,
        estimated: false, costMicroUSD: 123, costSource: "prices", latencyMs: 12.5, ttfbMs: 3.25)
}

let ledgerDir = NSTemporaryDirectory() + "switchyard-bench-\(getpid())"
let benchStore = SQLiteUsageStore(path: ledgerDir + "/ledger.sqlite")
let queue = LedgerWriter(store: benchStore, metrics: Metrics(), logger: Logger(label: "bench"), capacity: Int.max)
var recordIndex = 0
measure("ledger: build and queue one request's record") {
    recordIndex += 1
    queue.record(ledgerRecord(recordIndex))
}
let batch = smoke ? 200 : 5_000
let batches = smoke ? 2 : 20
try? await benchStore.migrate()
let writeStart = DispatchTime.now().uptimeNanoseconds
for b in 0..<batches {
    try? await benchStore.insert((0..<batch).map { ledgerRecord(10_000_000 + b * batch + $0) })
}
let writeSeconds = Double(DispatchTime.now().uptimeNanoseconds - writeStart) / 1e9
print(
    "ledger: SQLite writes, batches of \(batch)".padding(toLength: 58, withPad: " ", startingAt: 0)
        + String(format: "%.0f records/s", Double(batch * batches) / writeSeconds).leftPadded(14))
await benchStore.close()
try? FileManager.default.removeItem(atPath: ledgerDir)
