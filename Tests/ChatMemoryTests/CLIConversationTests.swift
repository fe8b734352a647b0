@testable import ChatMemory
import Foundation
import ChatMemoryRedis
import Testing

/// Owners' lists of conversations under many processes, on a server, a cluster and Sentinel:
/// 8 `chat-memory append --owner` processes write 50 sessions of 5 owners while the library lists
/// them, then 8 more write 4 of the owners while `chat-memory erase-owner` erases the fifth.
/// Serialized: the three topologies one after another, so at most 8 writer processes run at once
/// beside the rest of the suite (24 at once starved other tests' calls on 2 cores).
@Suite(.serialized) struct CLIConversationTests {
    enum Target: String, CaseIterable, CustomTestStringConvertible, Sendable {
        case server, cluster, sentinel
        var testDescription: String { rawValue }

        /// The CLI's environment for this target (nothing extra for the test server).
        func environment() throws -> [String: String?] {
            switch self {
            case .server: return ["REDIS_SENTINEL_PASSWORD": nil]
            case .cluster: return ["REDIS_URL": try TestTopologyVariables.value("REDIS_CLUSTER_URL"), "REDIS_SENTINEL_PASSWORD": nil]
            case .sentinel:
                return ["REDIS_URL": try TestTopologyVariables.value("REDIS_SENTINEL_URL"),
                        "REDIS_SENTINEL_PASSWORD": try TestTopologyVariables.value("TEST_SENTINEL_PASSWORD")]
            }
        }

        func client(_ cli: CLIHarness) throws -> RedisClient {
            var environment = ["REDIS_URL": cli.redisURL]
            for case let (name, value?) in try self.environment() { environment[name] = value }
            var configuration = try RedisConfiguration.fromEnvironment(environment)
            configuration.commandTimeout = .seconds(60)
            configuration.connectTimeout = .seconds(60)
            return RedisClient(configuration: configuration)
        }
    }

    /// One bash process appending, for each (session, owner) pair after the prefix, one message
    /// per id suffix in $SUFFIXES (`<session>-<suffix>`).
    private static let writer = #"""
        prefix=$1; shift
        while [ $# -gt 0 ]; do
          session=$1; owner=$2; shift 2
          for suffix in $SUFFIXES; do
            "$CLI" append "$session" --owner "$owner" --id "$session-$suffix" --role user --content "$session-$suffix" \
              --prefix "$prefix" --encoding approx >/dev/null || exit 1
          done
        done
        """#

    @Test(arguments: Target.allCases)
    func eightProcessesFiveOwnersListingAndErasing(target: Target) async throws {
        let cli = try CLIHarness()
        let run = UUID().uuidString.prefix(8)
        let prefix = "cvt-\(run):"
        let owners = (0..<5).map { "owner-\($0)" }
        let sessions = (0..<50).map { (id: "talk-\($0)", owner: owners[$0 % 5]) }
        let environment = try target.environment()
        let client = try target.client(cli)
        var configuration = ChatMemoryConfiguration()
        configuration.keyPrefix = prefix
        let memory = try RedisChatMemory(client: client, configuration: configuration)

        /// Runs 8 writers over `chosen`, process k taking every 8th pair from k.
        func writers(_ chosen: [(id: String, owner: String)], suffixes: String) async throws {
            try await withThrowingTaskGroup(of: CLIResult.self) { group in
                for process in 0..<8 {
                    let share = chosen.indices.filter { $0 % 8 == process }.flatMap { [chosen[$0].id, chosen[$0].owner] }
                    var variables = environment
                    variables["SUFFIXES"] = suffixes
                    group.addTask { try await cli.runShell(Self.writer, arguments: [prefix] + share, environment: variables) }
                }
                for try await result in group { result.expectSuccess() }
            }
        }

        /// Every page of an owner's list: ordered by last activity, no session twice.
        func listing(_ owner: String) async throws -> [Conversation] {
            var all: [Conversation] = []
            var cursor: ConversationCursor?
            repeat {
                let page = try await memory.conversations(of: try OwnerID(owner), after: cursor, limit: 3)
                all += page.conversations
                cursor = page.next
            } while cursor != nil
            for (newer, older) in zip(all, all.dropFirst()) { #expect(newer.lastActive >= older.lastActive) }
            #expect(Set(all.map(\.id)).count == all.count, "a session listed twice for \(owner)")
            return all
        }

        do {
            // Wave 1: every session gets 2 messages, while the lists are read.
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await writers(sessions, suffixes: "a b") }
                group.addTask {
                    for _ in 0..<5 { for owner in owners { _ = try await listing(owner) } }
                }
                try await group.waitForAll()
            }
            for owner in owners {
                let listed = try await listing(owner)
                #expect(Set(listed.map(\.id.description)) == Set(sessions.filter { $0.owner == owner }.map(\.id)))
                #expect(listed.allSatisfy { $0.messageCount == 2 })
            }

            // Wave 2: four owners keep writing while the fifth is erased.
            let erased = owners[4]
            let kept = sessions.filter { $0.owner != erased }
            var report: CLIResult?
            try await withThrowingTaskGroup(of: CLIResult?.self) { group in
                group.addTask { try await writers(kept, suffixes: "c"); return nil }
                group.addTask { try await cli.run(["erase-owner", erased, "--prefix", prefix, "--json"], environment: environment) }
                for try await result in group { if let result { report = result } }
            }
            let erasedReport = try #require(report).expectSuccess().jsonObject()
            #expect(erasedReport["erased"] as? Int == 10)
            #expect(try await listing(erased).isEmpty)
            var remaining = Set<SessionID>()
            for try await id in memory.sessions() { remaining.insert(id) }
            #expect(remaining == Set(kept.map { try! SessionID($0.id) }), "only the erased owner's sessions are gone")
            let ownerKey = Array((prefix + erased).utf8)
            var gone = [RedisChatStorage.ownerIndexKey(of: ownerKey), RedisChatStorage.ownerInfoKey(of: ownerKey)]
            for session in sessions where session.owner == erased {
                let key = Array((prefix + session.id).utf8)
                gone += [key, RedisChatStorage.indexKey(of: key)]
            }
            for key in gone { #expect(try await client.send("EXISTS", key) == .integer(0), "\(String(decoding: key, as: UTF8.self))") }
            for owner in owners where owner != erased {
                let listed = try await listing(owner)
                #expect(listed.count == 10 && listed.allSatisfy { $0.messageCount == 3 }, "\(owner): \(listed.map(\.messageCount))")
            }
        } catch {
            for owner in owners { _ = try? await memory.erase(owner: try OwnerID(owner)) }
            await client.shutdown()
            throw error
        }
        for owner in owners { try await memory.erase(owner: try OwnerID(owner)) }
        await client.shutdown()
    }

    @Test("an owner id that is not UTF-8 goes in and out by hex, and import takes --owner")
    func binaryOwnersByHex() async throws {
        let cli = try CLIHarness()
        let prefix = "cvh-\(UUID().uuidString.prefix(8)):"
        let owner = "61ff00"   // a, 0xff, NUL: not text
        let session = cliSessionID("hex-owner")
        try await cli.run(["append", session, "--owner", owner, "--owner-hex", "--role", "user", "--content", "hi", "--prefix", prefix]).expectSuccess()
        let line = #"{"id":"imported","role":"user","content":"from a file"}"#
        try await cli.run(["import", session + "-2", "--owner", owner, "--owner-hex", "--prefix", prefix], stdin: Data(line.utf8)).expectSuccess()
        let listed = try await cli.run(["conversations", owner, "--hex", "--json", "--prefix", prefix]).expectSuccess().jsonObject()
        let rows = try #require(listed["conversations"] as? [[String: Any]])
        #expect(Set(rows.compactMap { ($0["session"] as? [String: Any])?["id"] as? String }) == [session, session + "-2"])
        let text = try await cli.run(["conversations", "61ff00", "--prefix", prefix, "--json"]).expectSuccess().jsonObject()
        #expect((text["conversations"] as? [Any])?.isEmpty == true, "the text 61ff00 is another owner")
        try await cli.run(["title", session, "--owner", owner, "--owner-hex", "Binary", "--prefix", prefix]).expectSuccess()
        let erased = try await cli.run(["erase-owner", owner, "--hex", "--json", "--prefix", prefix]).expectSuccess().jsonObject()
        #expect(erased["erased"] as? Int == 2, "\(erased)")
        for bad in [["conversations", "6", "--hex"], ["conversations", "zz", "--hex"], ["conversations", "", "--hex"],
                    ["append", session, "--owner-hex", "--role", "user", "--content", "x"],
                    ["append", session, "--owner", "f", "--owner-hex", "--role", "user", "--content", "x"]] {
            let result = try await cli.run(bad + ["--prefix", prefix])
            #expect(result.status == 64, "\(bad)")
            #expect(result.errorOutput.contains("owner"), "\(bad): \(result.errorOutput)")
        }
    }
}

/// The topology variables Scripts/test.sh exports; a missing one fails the test.
enum TestTopologyVariables {
    static func value(_ name: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
            throw CLIHarnessMissing("\(name) is not set: run the tests with Scripts/test.sh, which starts a Redis Cluster and a Sentinel group")
        }
        return value
    }
}
