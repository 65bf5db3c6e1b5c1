import CRabbitMQ
import Foundation
import Logging

/// One blocking connection to the broker through rabbitmq-c. It is the only place with unsafe
/// pointers in the project. Not thread-safe: one owner thread (see `AMQPSession`) calls it.
public final class AMQPConnection {
    private let state: amqp_connection_state_t
    private var openChannels: Set<UInt16> = []
    public let url: AMQPURL
    /// Messages whose content frames are still arriving (a delivery, a returned message, a basic.get's), one a channel;
    /// rarely more than one at once.
    private var assembling: [Assembly] = []
    /// basic.get's message once its content has arrived.
    private var got: Delivery?
    /// Events completed while `get` waited for its own message's content; `nextEvent` returns them first.
    private var ready: [Event] = []
    /// A delivery of this many bytes or more is announced (`Event.largeDelivery`) as soon as its header says so; nil: never.
    /// It is also the budget of the deliveries' bodies held in memory (`spillDirectory`).
    public var largeDeliveryBytes: Int?
    /// While set, a delivery of `holdableBytes` or more that would take such bodies in memory and not yet settled beyond
    /// `largeDeliveryBytes` (while any is) is written to a new file here as it arrives (`SpilledBody`), not kept in
    /// memory; if the file cannot be made or written, the body is kept in memory after all, with a warning.
    public var spillDirectory: String?
    /// Bodies smaller than this are always kept in memory and not counted: a prefetch of them is little (200 × 64 KiB is
    /// 12.8 MB), a file each would cost more, and small messages, most of the traffic, pay nothing for the count.
    public static let holdableBytes = 64 << 10
    /// The deliveries of `holdableBytes` or more whose bodies are in memory, not yet settled (`settled`): their sizes by
    /// delivery tag, and the sum.
    private var inMemory: [UInt64: Int] = [:]
    private var bytesInMemory = 0
    public var logger: Logger?

    /// Events read off the socket besides RPC replies.
    public enum Event {
        case delivery(Delivery)
        /// A delivery of `largeDeliveryBytes` or more whose header has arrived, its body not yet: `held` when the body is
        /// going to a file (`spillDirectory`).
        case largeDelivery(channel: UInt16, tag: UInt64, bytes: Int, held: Bool)
        case confirmAck(channel: UInt16, tag: UInt64, multiple: Bool)
        case confirmNack(channel: UInt16, tag: UInt64, multiple: Bool)
        case returned(channel: UInt16, exchange: String, routingKey: String, messageID: String?, replyText: String)
        case cancelOk(channel: UInt16, consumerTag: String)
        case cancelledByBroker(channel: UInt16, consumerTag: String)
        case channelClosed(channel: UInt16, code: Int, text: String)
        case blocked(String)
        case unblocked
    }

    public init(url: AMQPURL, connectionName: String) throws {
        self.url = url
        guard let state = amqp_new_connection() else { throw AMQPError.library("out of memory") }
        self.state = state
        // Every stored property is set, so if `open` throws, deinit runs and destroys the state (once).
        try open(connectionName: connectionName)
    }

    deinit {
        amqp_destroy_connection(state)
    }

    private func open(connectionName: String) throws {
        let socket: OpaquePointer?
        if url.useTLS {
            socket = amqp_ssl_socket_new(state)
            guard let socket else { throw AMQPError.connectFailed("cannot create TLS socket") }
            amqp_ssl_socket_set_verify_peer(socket, url.verifyPeer ? 1 : 0)
            amqp_ssl_socket_set_verify_hostname(socket, url.verifyPeer ? 1 : 0)
            if let ca = url.caCertificateFile {
                let rc = amqp_ssl_socket_set_cacert(socket, ca)
                if rc != AMQP_STATUS_OK.rawValue { throw AMQPError.connectFailed("cannot load CA file \(ca): \(Self.statusText(rc))") }
            }
        } else {
            socket = amqp_tcp_socket_new(state)
        }
        guard let socket else { throw AMQPError.connectFailed("cannot create socket") }
        var timeout = timeval(tv_sec: url.connectTimeoutSeconds, tv_usec: 0)
        let rc = amqp_socket_open_noblock(socket, url.host, Int32(url.port), &timeout)
        if rc != AMQP_STATUS_OK.rawValue {
            throw AMQPError.connectFailed("\(url.host):\(url.port): \(Self.statusText(rc))")
        }
        let arena = CArena()
        var properties = arena.table(["connection_name": .string(connectionName), "product": .string("heartland-sage-bridge")])
        let reply = bridge_amqp_login_plain_props(
            state, url.vhost, 0, 131_072, Int32(url.heartbeatSeconds), &properties, url.user, url.password)
        if reply.reply_type != AMQP_RESPONSE_NORMAL {
            throw AMQPError.connectFailed("login as \(url.user) on vhost \(url.vhost) failed: \(describe(reply))")
        }
    }

    // MARK: channels

    public func openChannel(_ channel: UInt16) throws {
        guard !openChannels.contains(channel) else { return }
        amqp_channel_open(state, channel)
        try check(amqp_get_rpc_reply(state), channel: channel)
        openChannels.insert(channel)
    }

    public func closeChannel(_ channel: UInt16) {
        guard openChannels.remove(channel) != nil else { return }
        _ = amqp_channel_close(state, channel, Int32(AMQP_REPLY_SUCCESS))
    }

    public func confirmSelect(channel: UInt16) throws {
        try openChannel(channel)
        amqp_confirm_select(state, channel)
        try check(amqp_get_rpc_reply(state), channel: channel)
    }

    public func qos(channel: UInt16, prefetch: UInt16) throws {
        try openChannel(channel)
        amqp_basic_qos(state, channel, 0, prefetch, 0)
        try check(amqp_get_rpc_reply(state), channel: channel)
    }

    // MARK: declarations

    public func declareExchange(channel: UInt16, name: String, type: String, durable: Bool = true, passive: Bool = false,
                                autoDelete: Bool = false, isInternal: Bool = false, arguments: FieldTable = [:]) throws {
        try openChannel(channel)
        let arena = CArena()
        amqp_exchange_declare(state, channel, arena.bytes(name), arena.bytes(type), passive ? 1 : 0, durable ? 1 : 0,
                              autoDelete ? 1 : 0, isInternal ? 1 : 0, arena.table(arguments))
        try check(amqp_get_rpc_reply(state), channel: channel)
    }

    /// Declares (or with `passive`, checks) a queue; returns its ready message count and consumer count.
    @discardableResult
    public func declareQueue(channel: UInt16, name: String, durable: Bool = true, passive: Bool = false,
                             exclusive: Bool = false, autoDelete: Bool = false, arguments: FieldTable = [:]) throws -> (messages: UInt32, consumers: UInt32) {
        try openChannel(channel)
        let arena = CArena()
        let ok = amqp_queue_declare(state, channel, arena.bytes(name), passive ? 1 : 0, durable ? 1 : 0, exclusive ? 1 : 0,
                                    autoDelete ? 1 : 0, arena.table(arguments))
        try check(amqp_get_rpc_reply(state), channel: channel)
        guard let ok else { throw AMQPError.library("queue.declare-ok missing") }
        return (ok.pointee.message_count, ok.pointee.consumer_count)
    }

    public func bindQueue(channel: UInt16, queue: String, exchange: String, routingKey: String, arguments: FieldTable = [:]) throws {
        try openChannel(channel)
        let arena = CArena()
        amqp_queue_bind(state, channel, arena.bytes(queue), arena.bytes(exchange), arena.bytes(routingKey), arena.table(arguments))
        try check(amqp_get_rpc_reply(state), channel: channel)
    }

    @discardableResult
    public func purgeQueue(channel: UInt16, name: String) throws -> UInt32 {
        try openChannel(channel)
        let arena = CArena()
        let ok = amqp_queue_purge(state, channel, arena.bytes(name))
        try check(amqp_get_rpc_reply(state), channel: channel)
        return ok?.pointee.message_count ?? 0
    }

    public func deleteQueue(channel: UInt16, name: String) throws {
        try openChannel(channel)
        let arena = CArena()
        amqp_queue_delete(state, channel, arena.bytes(name), 0, 0)
        try check(amqp_get_rpc_reply(state), channel: channel)
    }

    public func deleteExchange(channel: UInt16, name: String) throws {
        try openChannel(channel)
        let arena = CArena()
        amqp_exchange_delete(state, channel, arena.bytes(name), 0)
        try check(amqp_get_rpc_reply(state), channel: channel)
    }

    // MARK: publishing and consuming

    /// Publishes `messages` in order on `channel`, each `mandatory` as it says.
    ///
    /// Over plain TCP their frames are encoded into one buffer (the method and the properties by rabbitmq-c's own encoders)
    /// and written with one `send` or a few: `amqp_basic_publish` sends each of a message's three frames with its own, so a
    /// relay's batch of 100 small messages cost 300 system calls. A body fragment of 32 KiB or more is sent from the
    /// message itself rather than copied, and the buffer is written whenever it reaches 64 KiB, so it stays small.
    /// Over TLS the socket is rabbitmq-c's to write: each message goes through `amqp_basic_publish`, the socket corked
    /// (`TCP_CORK`) for the batch so that the frames still leave in full segments.
    public func publish(channel: UInt16, _ messages: [OutgoingMessage]) throws {
        try openChannel(channel)
        let fd = amqp_get_sockfd(state)
        guard !url.useTLS, fd >= 0 else {
            try corked(fd) {
                for message in messages {
                    let arena = CArena()
                    var properties = arena.properties(message.properties)
                    let rc = message.body.withUnsafeBytes { raw -> Int32 in
                        let body = amqp_bytes_t(len: raw.count, bytes: UnsafeMutableRawPointer(mutating: raw.baseAddress))
                        return amqp_basic_publish(state, channel, arena.bytes(message.exchange), arena.bytes(message.routingKey),
                                                  message.mandatory ? 1 : 0, 0, &properties, body)
                    }
                    if rc != AMQP_STATUS_OK.rawValue { throw connectionError(rc, "publish") }
                }
            }
            return
        }
        defer { outbound.removeAll(keepingCapacity: outbound.capacity <= 1 << 20) }
        for message in messages {
            let arena = CArena()  // a message's C strings and tables, freed once its frames are encoded
            var method = amqp_basic_publish_t(ticket: 0, exchange: arena.bytes(message.exchange), routing_key: arena.bytes(message.routingKey),
                                              mandatory: message.mandatory ? 1 : 0, immediate: 0)
            try appendFrame(type: AMQP_FRAME_METHOD, channel: channel, headerBytes: 4) { payload in
                payload.storeBytes(of: UInt32(0x003C_0028).bigEndian, as: UInt32.self)  // basic.publish
                return amqp_encode_method(0x003C_0028, &method, amqp_bytes_t(rebasing: payload, from: 4))
            }
            var properties = arena.properties(message.properties)
            try appendFrame(type: AMQP_FRAME_HEADER, channel: channel, headerBytes: 12) { payload in
                payload.storeBytes(of: UInt16(60).bigEndian, as: UInt16.self)  // class basic
                payload.storeBytes(of: UInt16(0), toByteOffset: 2, as: UInt16.self)  // weight
                payload.storeBytes(of: UInt64(message.body.count).bigEndian, toByteOffset: 4, as: UInt64.self)
                return amqp_encode_properties(60, &properties, amqp_bytes_t(rebasing: payload, from: 12))
            }
            try message.body.withUnsafeBytes { body in
                let fragmentMax = Int(amqp_get_frame_max(state)) - 8  // a frame's header and end
                var start = 0
                while start < body.count {
                    let fragment = UnsafeRawBufferPointer(rebasing: body[start..<min(start + fragmentMax, body.count)])
                    appendFrameHeader(type: AMQP_FRAME_BODY, channel: channel, size: fragment.count)
                    if fragment.count >= 32 << 10 {
                        try send(fd, more: true)
                        try send(fd, fragment, more: true)
                    } else {
                        outbound.append(contentsOf: fragment)
                    }
                    outbound.append(UInt8(AMQP_FRAME_END))
                    start += fragment.count
                }
            }
            if outbound.count >= 64 << 10 { try send(fd, more: true) }
        }
        try send(fd, more: false)
    }

    /// Frames encoded for `publish`, not yet written.
    private var outbound: [UInt8] = []
    /// Where a frame's payload is encoded before it joins `outbound`: a frame is at most `frame_max` bytes.
    private var scratch: [UInt8] = []

    /// Appends a frame whose payload `encode` writes: the first `headerBytes` itself, the rest by one of rabbitmq-c's
    /// encoders, whose result (the length it wrote, or a negative status) it returns.
    private func appendFrame(type: Int32, channel: UInt16, headerBytes: Int, _ encode: (UnsafeMutableRawBufferPointer) -> Int32) throws {
        let frameMax = Int(amqp_get_frame_max(state))
        if scratch.count < frameMax { scratch = [UInt8](repeating: 0, count: frameMax) }
        let encoded = scratch.withUnsafeMutableBytes { encode($0) }
        guard encoded >= 0 else { throw connectionError(encoded, "publish") }
        let size = headerBytes + Int(encoded)
        appendFrameHeader(type: type, channel: channel, size: size)
        outbound.append(contentsOf: scratch[..<size])
        outbound.append(UInt8(AMQP_FRAME_END))
    }

    private func appendFrameHeader(type: Int32, channel: UInt16, size: Int) {
        outbound.append(UInt8(type))
        withUnsafeBytes(of: channel.bigEndian) { outbound.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt32(size).bigEndian) { outbound.append(contentsOf: $0) }
    }

    /// Writes `outbound` (then empties it), or `bytes` when given.
    private func send(_ fd: Int32, _ bytes: UnsafeRawBufferPointer? = nil, more: Bool) throws {
        let rc: Int32
        if let bytes {
            rc = bridge_send_all(fd, bytes.baseAddress, bytes.count, more ? 1 : 0)
        } else {
            guard !outbound.isEmpty else { return }
            rc = outbound.withUnsafeBytes { bridge_send_all(fd, $0.baseAddress, $0.count, more ? 1 : 0) }
            outbound.removeAll(keepingCapacity: true)
        }
        if rc != 0 { throw AMQPError.connectionLost("publish: \(String(cString: strerror(-rc)))") }
    }

    /// Runs `body` (publishes) with the socket `fd` corked, so that its frames leave in full TCP segments when it returns
    /// instead of one segment or more a message.
    private func corked<T>(_ fd: Int32, _ body: () throws -> T) rethrows -> T {
        guard fd >= 0, bridge_socket_cork(fd, 1) == 0 else { return try body() }
        defer { _ = bridge_socket_cork(fd, 0) }
        return try body()
    }

    /// Starts a consumer; deliveries then arrive through `nextEvent`.
    public func consume(channel: UInt16, queue: String, consumerTag: String, arguments: FieldTable = [:]) throws {
        try openChannel(channel)
        let arena = CArena()
        amqp_basic_consume(state, channel, arena.bytes(queue), arena.bytes(consumerTag), 0, 0, 0, arena.table(arguments))
        try check(amqp_get_rpc_reply(state), channel: channel)
    }

    /// Sends basic.cancel without waiting: the cancel-ok arrives as an event, possibly after more deliveries.
    public func sendCancel(channel: UInt16, consumerTag: String) throws {
        let arena = CArena()
        var method = amqp_basic_cancel_t(consumer_tag: arena.bytes(consumerTag), nowait: 0)
        let rc = amqp_send_method(state, channel, 0x003C_001E, &method)
        if rc != AMQP_STATUS_OK.rawValue { throw connectionError(rc, "basic.cancel") }
    }

    public func ack(channel: UInt16, deliveryTag: UInt64, multiple: Bool = false) throws {
        let rc = amqp_basic_ack(state, channel, deliveryTag, multiple ? 1 : 0)
        if rc != AMQP_STATUS_OK.rawValue { throw connectionError(rc, "basic.ack") }
    }

    public func nack(channel: UInt16, deliveryTag: UInt64, multiple: Bool = false, requeue: Bool) throws {
        let rc = amqp_basic_nack(state, channel, deliveryTag, multiple ? 1 : 0, requeue ? 1 : 0)
        if rc != AMQP_STATUS_OK.rawValue { throw connectionError(rc, "basic.nack") }
    }

    /// basic.get without auto-ack: the caller acks or nacks the returned delivery on the same channel.
    public func get(channel: UInt16, queue: String, generation: UInt64) throws -> Delivery? {
        try openChannel(channel)
        let arena = CArena()
        let reply = amqp_basic_get(state, channel, arena.bytes(queue), 0)
        try check(reply, channel: channel)
        guard reply.reply.id == 0x003C_0047, let decoded = reply.reply.decoded else { return nil }
        let ok = decoded.assumingMemoryBound(to: amqp_basic_get_ok_t.self).pointee
        assembling.append(Assembly(channel: channel, kind: .got(tag: ok.delivery_tag, redelivered: ok.redelivered != 0, messageCount: ok.message_count),
                                   exchange: Self.string(ok.exchange), routingKey: Self.string(ok.routing_key)))
        // Its content, frame by frame; what arrives on other channels meanwhile is kept for `nextEvent`.
        while true {
            guard let frame = try nextFrame(timeoutMicroseconds: nil, reading: "reading a message") else { continue }
            if let event = try handle(frame, generation: generation) { ready.append(event) }
            if let delivery = got {
                got = nil
                return delivery
            }
        }
    }

    // MARK: events

    /// True when a frame can be read without touching the socket.
    public var hasBufferedFrames: Bool { !ready.isEmpty || libraryHasFrames }

    /// rabbitmq-c holds frames read off the socket and not yet taken.
    private var libraryHasFrames: Bool { amqp_frames_enqueued(state) != 0 || amqp_data_in_buffer(state) != 0 }

    /// What `waitReadable` found.
    public struct Readiness: OptionSet, Sendable {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
        /// The socket has something to read (or an error for the next read to tell).
        public static let socket = Readiness(rawValue: 1)
        /// `wakeFD` has been signalled.
        public static let wake = Readiness(rawValue: 2)
    }

    /// Blocks until the socket or `wakeFD` is readable or the timeout passes (then nothing is).
    public func waitReadable(timeoutMilliseconds: Int32, wakeFD: Int32) -> Readiness {
        let rc = bridge_poll_readable(amqp_get_sockfd(state), wakeFD, timeoutMilliseconds)
        return rc < 0 ? .socket : Readiness(rawValue: rc)  // an error: the next read tells it
    }

    /// The next event from the frames read so far, and from the socket as `receiving` allows; nil when none is complete.
    /// A message's content is read frame by frame into its body, the library's buffers released after each frame: read
    /// whole by `amqp_read_message`, a message was held three times (the frames, kept by the channel's pool for the
    /// connection's life, its `malloc`ed copy and the body). Throws when the connection is gone.
    ///
    /// `receiving`: whether it may read the socket when no frame is left in what was read before; false once it has. The
    /// session's loop lets it read once each time the socket polls readable (or the poll times out, for rabbitmq-c to see
    /// to heartbeats): reading on until the socket had nothing cost two system calls each time (a `recv` that finds
    /// nothing, then rabbitmq-c's `poll` that does not wait), about one for every four messages a relay carried.
    public func nextEvent(generation: UInt64, receiving: inout Bool) throws -> Event? {
        if !ready.isEmpty { return ready.removeFirst() }
        while true {
            if !libraryHasFrames {
                guard receiving else { return nil }
                receiving = false
            }
            guard let frame = try nextFrame(timeoutMicroseconds: 0, reading: "reading from the broker") else { return nil }
            if let event = try handle(frame, generation: generation) { return event }
        }
    }

    /// A delivery's body of `size` bytes is in memory until it is settled.
    private func countInMemory(_ tag: UInt64, _ size: Int) {
        inMemory[tag] = size
        bytesInMemory += size
    }

    /// A delivery (or, `multiple`, every one up to it) was acked or nacked: its body no longer counts as in memory.
    public func settled(deliveryTag: UInt64, multiple: Bool) {
        guard !inMemory.isEmpty else { return }
        if multiple {
            for (tag, size) in inMemory where tag <= deliveryTag {
                inMemory[tag] = nil
                bytesInMemory -= size
            }
        } else if let size = inMemory.removeValue(forKey: deliveryTag) {
            bytesInMemory -= size
        }
    }

    /// The next frame, the library's buffers released first (what a frame pointed into has been copied by then); nil when
    /// none arrives within `timeoutMicroseconds` (nil: waits for one).
    private func nextFrame(timeoutMicroseconds: Int?, reading what: String) throws -> amqp_frame_t? {
        amqp_maybe_release_buffers(state)
        var frame = amqp_frame_t()
        let rc: Int32
        if let timeoutMicroseconds {
            var timeout = timeval(tv_sec: timeoutMicroseconds / 1_000_000, tv_usec: timeoutMicroseconds % 1_000_000)
            rc = amqp_simple_wait_frame_noblock(state, &frame, &timeout)
        } else {
            rc = amqp_simple_wait_frame(state, &frame)
        }
        if rc == AMQP_STATUS_TIMEOUT.rawValue { return nil }
        if rc != AMQP_STATUS_OK.rawValue { throw connectionError(rc, what) }
        return frame
    }

    /// What one frame completes: an event, or nothing yet (a message whose content is still arriving, a frame of no interest).
    private func handle(_ frame: amqp_frame_t, generation: UInt64) throws -> Event? {
        let channel = frame.channel
        switch Int32(frame.frame_type) {
        case AMQP_FRAME_METHOD:
            return try handle(method: frame.payload.method, channel: channel)
        case AMQP_FRAME_HEADER:
            guard let index = assembling.firstIndex(where: { $0.channel == channel }), assembling[index].properties == nil else {
                throw AMQPError.connectionLost("a content header on channel \(channel) that no message announced")
            }
            let header = frame.payload.properties
            guard let decoded = header.decoded, header.body_size <= UInt64(Int.max) else {
                throw AMQPError.connectionLost("an unreadable content header on channel \(channel)")
            }
            assembling[index].properties = Self.properties(decoded.assumingMemoryBound(to: amqp_basic_properties_t.self).pointee)
            let size = Int(header.body_size)
            assembling[index].expected = size
            guard case .delivery(let tag, _) = assembling[index].kind, let budget = largeDeliveryBytes, size > 0,
                  size >= min(budget, Self.holdableBytes) else {
                assembling[index].body.reserveCapacity(size)
                return complete(at: index, generation: generation)
            }
            if size >= Self.holdableBytes {
                if let spillDirectory, bytesInMemory > 0, bytesInMemory + size > budget {
                    do { assembling[index].spill = try SpillFile(directory: spillDirectory) } catch {
                        logger?.warning("a delivery is kept in memory: its file could not be made", metadata: ["error": "\(error)"])
                    }
                }
                if assembling[index].spill == nil { countInMemory(tag, size) }
            }
            if assembling[index].spill == nil { assembling[index].body.reserveCapacity(size) }
            guard size >= budget else { return complete(at: index, generation: generation) }
            return .largeDelivery(channel: channel, tag: tag, bytes: size, held: assembling[index].spill != nil)
        case AMQP_FRAME_BODY:
            guard let index = assembling.firstIndex(where: { $0.channel == channel }), assembling[index].properties != nil else {
                throw AMQPError.connectionLost("content on channel \(channel) that no header announced")
            }
            let fragment = frame.payload.body_fragment
            guard assembling[index].received + fragment.len <= assembling[index].expected else {
                throw AMQPError.connectionLost("more content on channel \(channel) than its header announced")
            }
            if fragment.len > 0, let bytes = fragment.bytes {
                let held = assembling[index].spill != nil
                try assembling[index].append(UnsafeRawBufferPointer(start: bytes, count: fragment.len), logger: logger)
                // A file that failed part-way left the body in memory: it counts against the budget from now on.
                if held, assembling[index].spill == nil, case .delivery(let tag, _) = assembling[index].kind {
                    countInMemory(tag, assembling[index].expected)
                }
            }
            return complete(at: index, generation: generation)
        default:
            return nil
        }
    }

    /// The message's event once all its content is here (a basic.get's message goes to `got`); until then it waits.
    private func complete(at index: Int, generation: UInt64) -> Event? {
        guard let properties = assembling[index].properties, assembling[index].received == assembling[index].expected else { return nil }
        let message = assembling.remove(at: index)
        func delivery(tag: UInt64, redelivered: Bool, messageCount: UInt32?) -> Delivery {
            var delivery = Delivery(channel: message.channel, deliveryTag: tag, redelivered: redelivered, exchange: message.exchange,
                                    routingKey: message.routingKey, properties: properties, body: message.body,
                                    connectionGeneration: generation, messageCount: messageCount)
            delivery.spilledBody = message.spill?.finish()
            return delivery
        }
        switch message.kind {
        case .delivery(let tag, let redelivered):
            return .delivery(delivery(tag: tag, redelivered: redelivered, messageCount: nil))
        case .returned(let replyText):
            return .returned(channel: message.channel, exchange: message.exchange, routingKey: message.routingKey, messageID: properties.messageID,
                             replyText: replyText)
        case .got(let tag, let redelivered, let messageCount):
            got = delivery(tag: tag, redelivered: redelivered, messageCount: messageCount)
            return nil
        }
    }

    /// A message being read: what its method said, then its header's properties and size, then its body.
    private struct Assembly {
        enum Kind {
            case delivery(tag: UInt64, redelivered: Bool)
            case returned(replyText: String)
            case got(tag: UInt64, redelivered: Bool, messageCount: UInt32)
        }
        var channel: UInt16
        var kind: Kind
        var exchange: String
        var routingKey: String
        var properties: MessageProperties?
        var expected = 0
        var received = 0
        var body: [UInt8] = []
        /// Where the body goes instead of `body` (`spillDirectory`).
        var spill: SpillFile?

        init(channel: UInt16, kind: Kind, exchange: String, routingKey: String) {
            self.channel = channel
            self.kind = kind
            self.exchange = exchange
            self.routingKey = routingKey
        }

        mutating func append(_ fragment: UnsafeRawBufferPointer, logger: Logger?) throws {
            defer { received += fragment.count }
            guard let file = spill else { return body.append(contentsOf: fragment) }
            do { return try file.append(fragment) } catch {
                logger?.warning("a held delivery's file cannot take the rest: kept in memory", metadata: ["error": "\(error)"])
            }
            // What reached the file (this fragment's first bytes among it) comes back, and the rest follows in memory; if it
            // cannot, the message is not whole.
            do { body = try file.readBack() } catch {
                throw AMQPError.connectionLost("a held delivery could not be kept: \(error)")
            }
            spill = nil
            body.reserveCapacity(expected)
            body.append(contentsOf: UnsafeRawBufferPointer(rebasing: fragment[(body.count - received)...]))
        }
    }

    private func handle(method: amqp_method_t, channel: UInt16) throws -> Event? {
        switch method.id {
        case 0x003C_003C:  // basic.deliver
            let d = method.decoded.assumingMemoryBound(to: amqp_basic_deliver_t.self).pointee
            assembling.append(Assembly(channel: channel, kind: .delivery(tag: d.delivery_tag, redelivered: d.redelivered != 0),
                                       exchange: Self.string(d.exchange), routingKey: Self.string(d.routing_key)))
            return nil
        case 0x003C_0050:  // basic.ack
            let a = method.decoded.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee
            return .confirmAck(channel: channel, tag: a.delivery_tag, multiple: a.multiple != 0)
        case 0x003C_0078:  // basic.nack
            let n = method.decoded.assumingMemoryBound(to: amqp_basic_nack_t.self).pointee
            return .confirmNack(channel: channel, tag: n.delivery_tag, multiple: n.multiple != 0)
        case 0x003C_0032:  // basic.return
            let r = method.decoded.assumingMemoryBound(to: amqp_basic_return_t.self).pointee
            assembling.append(Assembly(channel: channel, kind: .returned(replyText: Self.string(r.reply_text)), exchange: Self.string(r.exchange),
                                       routingKey: Self.string(r.routing_key)))
            return nil
        case 0x003C_001F:  // basic.cancel-ok
            let c = method.decoded.assumingMemoryBound(to: amqp_basic_cancel_ok_t.self).pointee
            return .cancelOk(channel: channel, consumerTag: Self.string(c.consumer_tag))
        case 0x003C_001E:  // basic.cancel from the broker (queue deleted, node down)
            let c = method.decoded.assumingMemoryBound(to: amqp_basic_cancel_t.self).pointee
            return .cancelledByBroker(channel: channel, consumerTag: Self.string(c.consumer_tag))
        case 0x0014_0028:  // channel.close
            let c = method.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
            var closeOk = amqp_channel_close_ok_t(dummy: 0)
            _ = amqp_send_method(state, channel, 0x0014_0029, &closeOk)
            openChannels.remove(channel)
            return .channelClosed(channel: channel, code: Int(c.reply_code), text: Self.string(c.reply_text))
        case 0x000A_0032:  // connection.close
            let c = method.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
            var closeOk = amqp_connection_close_ok_t(dummy: 0)
            _ = amqp_send_method(state, 0, 0x000A_0033, &closeOk)
            throw AMQPError.connectionLost("broker closed the connection (\(c.reply_code)): \(Self.string(c.reply_text))")
        case 0x000A_003C:  // connection.blocked
            let b = method.decoded.assumingMemoryBound(to: amqp_connection_blocked_t.self).pointee
            return .blocked(Self.string(b.reason))
        case 0x000A_003D:
            return .unblocked
        default:
            return nil
        }
    }

    /// Closes the connection politely; errors are ignored because the connection is going away anyway.
    public func close() {
        for channel in openChannels.sorted() { _ = amqp_channel_close(state, channel, Int32(AMQP_REPLY_SUCCESS)) }
        openChannels.removeAll()
        _ = amqp_connection_close(state, Int32(AMQP_REPLY_SUCCESS))
    }

    // MARK: helpers

    private func check(_ reply: amqp_rpc_reply_t, channel: UInt16) throws {
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL:
            return
        case AMQP_RESPONSE_SERVER_EXCEPTION:
            if reply.reply.id == 0x0014_0028, let decoded = reply.reply.decoded {
                let c = decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
                var closeOk = amqp_channel_close_ok_t(dummy: 0)
                _ = amqp_send_method(state, channel, 0x0014_0029, &closeOk)
                openChannels.remove(channel)
                throw AMQPError.channelClosed(code: Int(c.reply_code), text: Self.string(c.reply_text))
            }
            throw AMQPError.connectionLost(describe(reply))
        default:
            throw AMQPError.connectionLost(describe(reply))
        }
    }

    private func describe(_ reply: amqp_rpc_reply_t) -> String {
        switch reply.reply_type {
        case AMQP_RESPONSE_LIBRARY_EXCEPTION: return Self.statusText(reply.library_error)
        case AMQP_RESPONSE_SERVER_EXCEPTION:
            guard let decoded = reply.reply.decoded else { return "server exception" }
            if reply.reply.id == 0x000A_0032 {
                let c = decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
                return "connection closed by broker (\(c.reply_code)): \(Self.string(c.reply_text))"
            }
            if reply.reply.id == 0x0014_0028 {
                let c = decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
                return "channel closed by broker (\(c.reply_code)): \(Self.string(c.reply_text))"
            }
            return "server exception (method \(reply.reply.id))"
        case AMQP_RESPONSE_NONE: return "no reply (missing RPC reply type)"
        default: return "unknown reply type"
        }
    }

    private func connectionError(_ rc: Int32, _ action: String) -> AMQPError {
        .connectionLost("\(action): \(Self.statusText(rc))")
    }

    static func statusText(_ rc: Int32) -> String {
        guard let text = amqp_error_string2(rc) else { return "status \(rc)" }
        return String(cString: text)
    }

    static func bytes(_ b: amqp_bytes_t) -> [UInt8] {
        guard b.len > 0, let base = b.bytes else { return [] }
        return Array(UnsafeRawBufferPointer(start: base, count: b.len))
    }

    static func string(_ b: amqp_bytes_t) -> String {
        String(decoding: bytes(b), as: UTF8.self)
    }

    static func properties(_ p: amqp_basic_properties_t) -> MessageProperties {
        let flags = p._flags
        func has(_ flag: Int32) -> Bool { flags & amqp_flags_t(flag) != 0 }
        return MessageProperties(
            contentType: has(1 << 15) ? string(p.content_type) : nil,
            messageID: has(1 << 7) ? string(p.message_id) : nil,
            correlationID: has(1 << 10) ? string(p.correlation_id) : nil,
            type: has(1 << 5) ? string(p.type) : nil,
            timestamp: has(1 << 6) ? Date(timeIntervalSince1970: TimeInterval(p.timestamp)) : nil,
            persistent: has(1 << 12) && p.delivery_mode == 2,
            headers: has(1 << 13) ? table(p.headers) : [:],
            appID: has(1 << 3) ? string(p.app_id) : nil,
            replyTo: has(1 << 9) ? string(p.reply_to) : nil,
            expiration: has(1 << 8) ? string(p.expiration) : nil)
    }

    static func table(_ t: amqp_table_t) -> FieldTable {
        var result: FieldTable = [:]
        guard t.num_entries > 0, let entries = t.entries else { return result }
        for i in 0..<Int(t.num_entries) {
            result[string(entries[i].key)] = value(entries[i].value)
        }
        return result
    }

    static func value(_ v: amqp_field_value_t) -> FieldValue {
        switch UInt32(v.kind) {
        case AMQP_FIELD_KIND_UTF8.rawValue: return .string(string(v.value.bytes))
        case AMQP_FIELD_KIND_BYTES.rawValue: return .bytes(bytes(v.value.bytes))
        case AMQP_FIELD_KIND_BOOLEAN.rawValue: return .bool(v.value.boolean != 0)
        case AMQP_FIELD_KIND_I8.rawValue: return .int(Int64(v.value.i8))
        case AMQP_FIELD_KIND_U8.rawValue: return .int(Int64(v.value.u8))
        case AMQP_FIELD_KIND_I16.rawValue: return .int(Int64(v.value.i16))
        case AMQP_FIELD_KIND_U16.rawValue: return .int(Int64(v.value.u16))
        case AMQP_FIELD_KIND_I32.rawValue: return .int(Int64(v.value.i32))
        case AMQP_FIELD_KIND_U32.rawValue: return .int(Int64(v.value.u32))
        case AMQP_FIELD_KIND_I64.rawValue: return .int(v.value.i64)
        case AMQP_FIELD_KIND_U64.rawValue: return .int(Int64(clamping: v.value.u64))
        case AMQP_FIELD_KIND_TIMESTAMP.rawValue: return .timestamp(v.value.u64)
        case AMQP_FIELD_KIND_F32.rawValue: return .double(Double(v.value.f32))
        case AMQP_FIELD_KIND_F64.rawValue: return .double(v.value.f64)
        case AMQP_FIELD_KIND_TABLE.rawValue: return .table(table(v.value.table))
        case AMQP_FIELD_KIND_ARRAY.rawValue:
            let a = v.value.array
            guard a.num_entries > 0, let entries = a.entries else { return .array([]) }
            return .array((0..<Int(a.num_entries)).map { value(entries[$0]) })
        default: return .void
        }
    }
}

/// Owns the C memory handed to rabbitmq-c for one call, and frees it when the call is done.
private final class CArena {
    private var chunks: [UnsafeMutableRawPointer] = []
    private var next: UnsafeMutableRawPointer?
    private var left = 0

    deinit { chunks.forEach { free($0) } }

    /// `size` bytes, 16-aligned, cut from a chunk of 4 KiB or more: a message's dozen strings and tables take one `malloc`,
    /// not two each.
    private func allocate(_ size: Int) -> UnsafeMutableRawPointer {
        let rounded = (max(size, 1) + 15) & ~15
        if rounded > left {
            let chunkSize = max(rounded, 4096)
            let chunk = malloc(chunkSize)!
            chunks.append(chunk)
            next = chunk
            left = chunkSize
        }
        let pointer = next!
        next = pointer + rounded
        left -= rounded
        return pointer
    }

    func bytes(_ string: String) -> amqp_bytes_t {
        var string = string
        return string.withUTF8 { bytes(UnsafeRawBufferPointer($0)) }
    }

    func bytes(_ array: [UInt8]) -> amqp_bytes_t { array.withUnsafeBytes { bytes($0) } }

    private func bytes(_ raw: UnsafeRawBufferPointer) -> amqp_bytes_t {
        let pointer = allocate(raw.count)
        if let base = raw.baseAddress, !raw.isEmpty { pointer.copyMemory(from: base, byteCount: raw.count) }
        return amqp_bytes_t(len: raw.count, bytes: pointer)
    }

    func table(_ table: FieldTable) -> amqp_table_t {
        guard !table.isEmpty else { return amqp_table_t(num_entries: 0, entries: nil) }
        let entries = allocate(MemoryLayout<amqp_table_entry_t>.stride * table.count).bindMemory(to: amqp_table_entry_t.self, capacity: table.count)
        for (i, (key, value)) in table.sorted(by: { $0.key < $1.key }).enumerated() {
            entries[i] = amqp_table_entry_t(key: bytes(key), value: self.value(value))
        }
        return amqp_table_t(num_entries: Int32(table.count), entries: entries)
    }

    func value(_ value: FieldValue) -> amqp_field_value_t {
        var v = amqp_field_value_t()
        switch value {
        case .string(let s): v.kind = UInt8(AMQP_FIELD_KIND_UTF8.rawValue); v.value.bytes = bytes(s)
        case .bytes(let b): v.kind = UInt8(AMQP_FIELD_KIND_BYTES.rawValue); v.value.bytes = bytes(b)
        case .int(let i): v.kind = UInt8(AMQP_FIELD_KIND_I64.rawValue); v.value.i64 = i
        case .bool(let b): v.kind = UInt8(AMQP_FIELD_KIND_BOOLEAN.rawValue); v.value.boolean = b ? 1 : 0
        case .double(let d): v.kind = UInt8(AMQP_FIELD_KIND_F64.rawValue); v.value.f64 = d
        case .timestamp(let t): v.kind = UInt8(AMQP_FIELD_KIND_TIMESTAMP.rawValue); v.value.u64 = t
        case .table(let t): v.kind = UInt8(AMQP_FIELD_KIND_TABLE.rawValue); v.value.table = table(t)
        case .array(let items):
            v.kind = UInt8(AMQP_FIELD_KIND_ARRAY.rawValue)
            let entries = allocate(MemoryLayout<amqp_field_value_t>.stride * max(items.count, 1)).bindMemory(to: amqp_field_value_t.self, capacity: max(items.count, 1))
            for (i, item) in items.enumerated() { entries[i] = self.value(item) }
            v.value.array = amqp_array_t(num_entries: Int32(items.count), entries: items.isEmpty ? nil : entries)
        case .void: v.kind = UInt8(AMQP_FIELD_KIND_VOID.rawValue)
        }
        return v
    }

    func properties(_ p: MessageProperties) -> amqp_basic_properties_t {
        var props = amqp_basic_properties_t()
        var flags: Int32 = 1 << 12  // delivery mode is always set
        props.delivery_mode = p.persistent ? 2 : 1
        if let v = p.contentType { props.content_type = bytes(v); flags |= 1 << 15 }
        if let v = p.messageID { props.message_id = bytes(v); flags |= 1 << 7 }
        if let v = p.correlationID { props.correlation_id = bytes(v); flags |= 1 << 10 }
        if let v = p.type { props.type = bytes(v); flags |= 1 << 5 }
        if let v = p.timestamp { props.timestamp = UInt64(max(0, v.timeIntervalSince1970)); flags |= 1 << 6 }
        if let v = p.appID { props.app_id = bytes(v); flags |= 1 << 3 }
        if let v = p.replyTo { props.reply_to = bytes(v); flags |= 1 << 9 }
        if let v = p.expiration { props.expiration = bytes(v); flags |= 1 << 8 }
        if !p.headers.isEmpty { props.headers = table(p.headers); flags |= 1 << 13 }
        props._flags = amqp_flags_t(flags)
        return props
    }
}

private extension amqp_bytes_t {
    /// The bytes of `buffer` from `offset` on, for rabbitmq-c to write into.
    init(rebasing buffer: UnsafeMutableRawBufferPointer, from offset: Int) {
        self.init(len: buffer.count - offset, bytes: buffer.baseAddress.map { $0 + offset })
    }
}
