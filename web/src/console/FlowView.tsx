import { Background, Controls, MarkerType, ReactFlow, type Edge, type Node } from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import { useEffect, useMemo, useState } from 'react';
import { api } from '../api/client.ts';
import { dateTime } from '../ui/format.ts';
import { EventTable } from './EventTable.tsx';
import { useLiveEvents, type LiveEvent } from './live-events.tsx';
import { usePoll } from './use-poll.ts';

type Flow = NonNullable<Awaited<ReturnType<typeof loadFlow>>>;
const loadFlow = async () => (await api.GET('/admin/flow')).data;

const COLUMN = { producer: 0, topic: 330, consumer: 700 };
const ROW = 74;
const PRODUCER_NAMES: Record<string, string> = {
  registration: 'Registration service',
  payment: 'Payment service',
  subscription: 'Subscription service',
};
const HOT_MS = 4_000;
// Fixed sizes: xyflow then never hides a re-rendered node to measure it again.
const SIZE = { width: 230, height: 52 };

/** Consumers ordered by the topics they read, so that the edges cross as little as they can. */
function consumersInOrder(flow: Flow): Flow['consumers'] {
  const rank = (c: Flow['consumers'][number]) => {
    const indexes = c.topics.map((t) => flow.topics.findIndex((x) => x.name === t)).filter((i) => i >= 0);
    return indexes.reduce((sum, i) => sum + i, 0) / Math.max(1, indexes.length);
  };
  return [...flow.consumers].sort((a, b) => rank(a) - rank(b));
}

/** Producers → topics → consumers as the platform is wired, with rates, lag and dead letters, moving live. */
function layout(flow: Flow, hot: Set<string>): { nodes: Node[]; edges: Edge[] } {
  const center = (count: number, index: number, total: number) =>
    (index - (count - 1) / 2) * ROW + ((total - 1) / 2) * ROW;
  const total = flow.consumers.length;
  const nodes: Node[] = [
    ...flow.producers.map((p, i) => ({
      id: `producer:${p.name}`,
      position: { x: COLUMN.producer, y: center(flow.producers.length, i, total) },
      data: { label: <div className="node-title">{PRODUCER_NAMES[p.name] ?? p.name}</div> },
      className: 'flow-node producer',
      ...SIZE,
      sourcePosition: 'right' as never,
      targetPosition: 'left' as never,
      type: 'input',
    })),
    ...flow.topics.map((t, i) => ({
      id: `topic:${t.name}`,
      position: { x: COLUMN.topic, y: center(flow.topics.length, i, total) },
      data: {
        label: (
          <div>
            <div className="node-title">{t.name}</div>
            <div className="node-meta">
              {t.perSecond.toFixed(2)} ev/s · {t.lastMinute} last min
            </div>
          </div>
        ),
      },
      className: `flow-node topic${hot.has(t.name) ? ' hot' : ''}`,
      ...SIZE,
      sourcePosition: 'right' as never,
      targetPosition: 'left' as never,
    })),
    ...consumersInOrder(flow).map((c, i) => ({
      id: `consumer:${c.name}`,
      position: { x: COLUMN.consumer, y: i * ROW },
      data: {
        label: (
          <div>
            <div className="node-title">{c.name}</div>
            <div className="node-meta">
              lag {c.lag ?? '—'}
              {c.deadLetters > 0 ? <span className="dlq-badge"> · {c.deadLetters} dead</span> : null}
            </div>
          </div>
        ),
      },
      className: `flow-node consumer${c.deadLetters > 0 ? ' has-dlq' : ''}${(c.lag ?? 0) > 0 ? ' lagging' : ''}`,
      ...SIZE,
      sourcePosition: 'right' as never,
      targetPosition: 'left' as never,
      type: 'output',
    })),
  ];
  const edge = (source: string, target: string, live: boolean): Edge => ({
    id: `${source}->${target}`,
    source,
    target,
    animated: live,
    className: live ? 'hot' : '',
    markerEnd: { type: MarkerType.ArrowClosed },
  });
  const edges = [
    ...flow.topics.map((t) => edge(`producer:${t.producer}`, `topic:${t.name}`, hot.has(t.name))),
    ...flow.consumers.flatMap((c) =>
      c.topics
        .filter((t) => flow.topics.some((x) => x.name === t))
        .map((t) => edge(`topic:${t}`, `consumer:${c.name}`, hot.has(t))),
    ),
  ];
  return { nodes, edges };
}

export function FlowView() {
  const { data: flow } = usePoll(loadFlow, 3_000);
  const { lastSeen } = useLiveEvents();
  const [selected, setSelected] = useState<string | null>(null);
  const [now, setNow] = useState(() => performance.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(performance.now()), 1_000);
    return () => clearInterval(timer);
  }, []);
  // The hot topics as a key: the graph is rebuilt when they change, not at every tick.
  const hotKey = (flow?.topics ?? [])
    .filter((topic) => topic.eventTypes.some((type) => now - (lastSeen.get(type) ?? -Infinity) < HOT_MS))
    .map((topic) => topic.name)
    .join(',');
  const graph = useMemo(
    () => (flow ? layout(flow, new Set(hotKey.split(','))) : { nodes: [], edges: [] }),
    [flow, hotKey],
  );

  if (!flow) return <p className="muted">Loading the wiring…</p>;
  return (
    <div className="flow-layout">
      <div className="flow-canvas" data-testid="flow-map" aria-label="Event flow map: producers, topics and consumers">
        <ReactFlow
          nodes={graph.nodes}
          edges={graph.edges}
          fitView
          nodesDraggable={false}
          nodesConnectable={false}
          proOptions={{ hideAttribution: true }}
          onNodeClick={(_event, node) => setSelected(node.id)}
        >
          <Background gap={24} />
          <Controls showInteractive={false} />
        </ReactFlow>
      </div>
      <aside className="flow-panel card" aria-live="polite">
        {selected ? <FlowDetail id={selected} flow={flow} /> : <FlowLegend flow={flow} />}
      </aside>
    </div>
  );
}

function FlowLegend({ flow }: { flow: Flow }) {
  return (
    <>
      <h2>Wiring</h2>
      <p className="muted">
        {flow.producers.length} producers → {flow.topics.length} topics → {flow.consumers.length} consumers, from the
        platform’s AsyncAPI catalog and its consumer list. Click a topic or a consumer.
      </p>
      <ul className="legend">
        <li>
          <span className="swatch hot" /> an event went through in the last seconds
        </li>
        <li>
          <span className="swatch dlq" /> a consumer with dead letters
        </li>
        <li>
          <span className="swatch lag" /> a consumer behind its topics
        </li>
      </ul>
    </>
  );
}

function FlowDetail({ id, flow }: { id: string; flow: Flow }) {
  const [kind, name] = id.split(/:(.*)/) as [string, string];
  if (kind === 'topic') return <TopicDetail topic={flow.topics.find((t) => t.name === name)!} />;
  if (kind === 'consumer') return <ConsumerDetail consumer={flow.consumers.find((c) => c.name === name)!} />;
  const producer = flow.producers.find((p) => p.name === name);
  return (
    <>
      <h2>{PRODUCER_NAMES[name] ?? name}</h2>
      <p>Publishes to {producer?.topics.join(', ')}.</p>
    </>
  );
}

function TopicDetail({ topic }: { topic: Flow['topics'][number] }) {
  const { events: live } = useLiveEvents();
  const { data } = usePoll(
    async () => {
      const pages = await Promise.all(
        topic.eventTypes.map((type) => api.GET('/admin/events', { params: { query: { type, limit: 20 } } })),
      );
      return pages
        .flatMap((page) => page.data?.events ?? [])
        .sort((a, b) => b.position - a.position)
        .slice(0, 20) as LiveEvent[];
    },
    0,
    [topic.name],
  );
  const recent = useMemo(() => {
    const seen = new Set<string>();
    return [...live.filter((e) => topic.eventTypes.includes(e.type)), ...(data ?? [])]
      .filter((e) => !seen.has(e.id) && !!seen.add(e.id))
      .slice(0, 20);
  }, [live, data, topic.eventTypes]);
  return (
    <>
      <h2 className="mono">{topic.name}</h2>
      <p className="muted">
        {topic.eventTypes.join(', ')} · {topic.perSecond.toFixed(2)} events/s over the last minute
      </p>
      <h3>Latest events</h3>
      {recent.length === 0 ? (
        <p className="muted">None yet.</p>
      ) : (
        <EventTable events={recent} label={`Latest events on ${topic.name}`} compact />
      )}
    </>
  );
}

function ConsumerDetail({ consumer }: { consumer: Flow['consumers'][number] }) {
  const { data } = usePoll(
    async () => (await api.GET('/admin/dlq', { params: { query: { consumer: consumer.name, limit: 20 } } })).data,
    5_000,
    [consumer.name],
  );
  return (
    <>
      <h2 className="mono">{consumer.name}</h2>
      <dl className="facts">
        <dt>Reads</dt>
        <dd>{consumer.topics.join(', ')}</dd>
        <dt>Lag</dt>
        <dd>{consumer.lag ?? 'not subscribed yet'} events</dd>
        <dt>Checkpoint</dt>
        <dd>
          {consumer.checkpoint
            ? `position ${consumer.checkpoint.position} · ${dateTime(consumer.checkpoint.updatedAt)}`
            : consumer.partitions
              ? 'kept by Kafka (committed offsets)'
              : 'none yet (nothing consumed)'}
        </dd>
        <dt>Dead letters</dt>
        <dd>{consumer.deadLetters}</dd>
      </dl>
      {data?.deadLetters.map((letter) => (
        <div key={letter.id} className="dead-letter">
          <strong>{letter.eventType}</strong> · {dateTime(letter.failedAt)}
          <p className="error-text">{letter.error}</p>
        </div>
      ))}
    </>
  );
}
