// kafkajs driven by eddy's interop tests (internal/interop/kafkajs_test.go).
//
//   node kafkajs_client.js BOOTSTRAP TOPIC GROUP COUNT PARTITIONS
//
// Starts two consumers in consumer group GROUP and waits until they split
// the topic's PARTITIONS partitions between them; then produces COUNT
// records (key "key<i>", value "js-<i>") with acks -1, every other send
// gzip-compressed, and consumes until both consumers together have COUNT
// records, plus a quiet second to catch duplicates. Prints one JSON object:
//
//   {"acked": [[partition, baseOffset], ...],
//    "consumed": [[member, partition, offset, key, value], ...],
//    "committed": [[partition, offset], ...]}
//
// where committed is what the group's offsets read back through the admin
// client after both consumers disconnected. Exits non-zero on any error or
// when the records do not all arrive within the deadline.
'use strict'

const { Kafka, CompressionTypes, logLevel } = require('kafkajs')

const DEADLINE_MS = 30000
const SEND_SIZE = 100

async function main([bootstrap, topic, groupId, countText, partitionsText]) {
  const count = Number(countText)
  const partitions = Number(partitionsText)
  const kafka = new Kafka({ clientId: 'eddy-interop-kafkajs', brokers: [bootstrap], logLevel: logLevel.WARN })
  const deadline = Date.now() + DEADLINE_MS

  const consumed = []
  // Short fetch waits and heartbeats let members notice a rebalance within
  // a second instead of the 5 s and 3 s defaults, keeping the test short.
  const consumerConfig = { groupId, maxWaitTimeInMs: 500, heartbeatInterval: 500 }
  const members = [0, 1].map(member => ({ member, consumer: kafka.consumer(consumerConfig), assigned: null }))
  for (const m of members) {
    m.consumer.on(m.consumer.events.GROUP_JOIN, e => {
      m.assigned = e.payload.memberAssignment[topic] || []
    })
    await m.consumer.connect()
    await m.consumer.subscribe({ topics: [topic], fromBeginning: true })
    await m.consumer.run({
      eachMessage: async ({ partition, message }) => {
        consumed.push([m.member, partition, Number(message.offset), message.key.toString(), message.value.toString()])
      },
    })
  }
  // Produce only once the members hold disjoint shares covering the topic,
  // so no rebalance can hand a record to both.
  await waitFor(deadline, 'the two consumers to split the partitions', () => {
    if (members.some(m => m.assigned === null)) return false
    const all = members.flatMap(m => m.assigned)
    return all.length === partitions && new Set(all).size === partitions
  })

  const producer = kafka.producer()
  await producer.connect()
  const acked = []
  for (let first = 0; first < count; first += SEND_SIZE) {
    const messages = []
    for (let i = first; i < Math.min(first + SEND_SIZE, count); i++) {
      messages.push({ key: `key${i}`, value: `js-${i}` })
    }
    const compression = (first / SEND_SIZE) % 2 === 0 ? CompressionTypes.None : CompressionTypes.GZIP
    const meta = await producer.send({ topic, messages, acks: -1, compression })
    for (const r of meta) {
      if (r.errorCode !== 0) throw new Error(`produce to ${topic}/${r.partition}: error code ${r.errorCode}`)
      acked.push([r.partition, Number(r.baseOffset)])
    }
  }
  await producer.disconnect()

  await waitFor(deadline, `${count} records`, () => consumed.length >= count)
  await new Promise(resolve => setTimeout(resolve, 1000))
  await Promise.all(members.map(m => m.consumer.disconnect()))

  const admin = kafka.admin()
  await admin.connect()
  const offsets = await admin.fetchOffsets({ groupId, topics: [topic] })
  await admin.disconnect()
  const committed = offsets[0].partitions.map(p => [p.partition, Number(p.offset)])

  // Writes to a pipe are asynchronous: exit only once the output is out.
  await new Promise(resolve => process.stdout.write(JSON.stringify({ acked, consumed, committed }), resolve))
}

async function waitFor(deadline, what, done) {
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  err => {
    console.error(err)
    process.exit(1)
  }
)
