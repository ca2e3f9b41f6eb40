import Dispatch
import NIOConcurrencyHelpers

/// Hands memory back to the system after large request bodies. glibc keeps freed memory in its
/// per-thread arenas, so a burst of 30 MiB bodies would leave the process at its peak size for
/// good; one `malloc_trim` shortly after the burst returns it. Trims at most once a second, off
/// the event loops.
public final class MemoryTrimmer: Sendable {
    /// Bodies at least this large schedule a trim once they are released.
    static let largeBodyBytes = 1 << 20

    private let scheduled = NIOLockedValueBox(false)

    public init() {}

    /// A large body was read and will be freed when its request ends: trim a moment later.
    func largeBodyReleased() {
        let schedule = scheduled.withLockedValue { pending -> Bool in
            defer { pending = true }
            return !pending
        }
        guard schedule else { return }
        DispatchQueue.global(qos: .utility).asyncAfter(deadline: .now() + .seconds(1)) { [self] in
            scheduled.withLockedValue { $0 = false }
            #if os(Linux)
                _ = glibcMallocTrim(0)
            #endif
        }
    }
}

#if os(Linux)
    /// glibc's `malloc_trim` (not exported by the Glibc module).
    @_silgen_name("malloc_trim")
    private func glibcMallocTrim(_ pad: Int) -> Int32
#endif
