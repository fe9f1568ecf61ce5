import { useState } from 'react';
import { api, problemText } from '../api/client.ts';
import { dateTime } from '../ui/format.ts';
import { usePoll } from './use-poll.ts';

/**
 * Every consumer group with its lag (per partition on Kafka) and checkpoint; dead letters with
 * their error and payload, replayed on demand (all of a consumer's, or one).
 */
export function ConsumersView() {
  const { data: consumers, reload: reloadConsumers } = usePoll(
    async () => (await api.GET('/admin/consumers')).data?.consumers,
    3_000,
  );
  const { data: letters, reload } = usePoll(
    async () => (await api.GET('/admin/dlq', { params: { query: { limit: 200 } } })).data?.deadLetters,
    3_000,
  );
  // What the last replay did, and whether it went wrong (a failure is not shown as a success).
  const [message, setMessage] = useState<{ text: string; ok: boolean } | null>(null);
  const replay = async (consumer: string) => {
    const { data, error } = await api.POST('/admin/dlq/{consumer}/replay', { params: { path: { consumer } } });
    setMessage(
      error
        ? { text: problemText(error), ok: false }
        : {
            text: `${consumer}: ${data?.replayed ?? 0} replayed, ${data?.failed.length ?? 0} failed again`,
            ok: (data?.failed.length ?? 0) === 0,
          },
    );
    reload();
    reloadConsumers();
  };
  const replayOne = async (consumer: string, id: number) => {
    const { data, error } = await api.POST('/admin/dlq/{consumer}/{id}/replay', { params: { path: { consumer, id } } });
    setMessage(
      error
        ? { text: problemText(error), ok: false }
        : data?.replayed
          ? { text: `${consumer}: dead letter ${id} replayed`, ok: true }
          : { text: `${consumer}: dead letter ${id} failed again: ${data?.error ?? ''}`, ok: false },
    );
    reload();
    reloadConsumers();
  };
  return (
    <>
      {message ? (
        <p className={`notice ${message.ok ? 'notice-ok' : 'notice-bad'}`} role={message.ok ? 'status' : 'alert'}>
          {message.text}
        </p>
      ) : null}
      <section className="card">
        <h2>Consumer groups</h2>
        <table className="table" aria-label="Consumer groups">
          <thead>
            <tr>
              <th scope="col">Consumer</th>
              <th scope="col">Topics</th>
              <th scope="col" className="num">
                Lag
              </th>
              <th scope="col">Checkpoint</th>
              <th scope="col" className="num">
                Dead letters
              </th>
              <th scope="col" />
            </tr>
          </thead>
          <tbody>
            {consumers?.map((c) => (
              <tr key={c.name} data-consumer={c.name}>
                <td className="mono">{c.name}</td>
                <td>{c.topics.join(', ')}</td>
                <td className="num">
                  {c.lag ?? '—'}
                  {c.partitions ? <PartitionLags partitions={c.partitions} /> : null}
                </td>
                <td>
                  {c.checkpoint
                    ? `${c.checkpoint.position} · ${dateTime(c.checkpoint.updatedAt)}`
                    : c.partitions
                      ? 'Kafka offsets'
                      : 'none yet'}
                </td>
                <td className="num">
                  {c.deadLetters > 0 ? <span className="badge badge-compensation_failed">{c.deadLetters}</span> : 0}
                </td>
                <td>
                  {c.deadLetters > 0 ? (
                    <button type="button" onClick={() => void replay(c.name)}>
                      Replay {c.name}
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section className="card">
        <h2>Dead letters</h2>
        {letters && letters.length === 0 ? (
          <p className="muted" data-testid="no-dead-letters">
            No dead letter pending.
          </p>
        ) : null}
        {letters?.map((letter) => (
          <details
            key={letter.id}
            className="dead-letter"
            data-dead-letter={letter.consumer}
            data-dead-letter-id={letter.id}
          >
            <summary>
              <strong className="mono">{letter.consumer}</strong> · {letter.eventType ?? 'unreadable message'} ·{' '}
              {letter.attempts} attempts · {dateTime(letter.failedAt)}
              {letter.poison ? <span className="badge badge-compensation_failed">poison</span> : null}
            </summary>
            <p className="error-text">{letter.error}</p>
            <button type="button" onClick={() => void replayOne(letter.consumer, letter.id)}>
              Replay dead letter {letter.id}
            </button>
            <pre className="json">{JSON.stringify(letter.headers, null, 2)}</pre>
          </details>
        ))}
      </section>
    </>
  );
}

/** Kafka: the partitions still behind, or that all of them (how many) are caught up. */
function PartitionLags({ partitions }: { partitions: { topic: string; partition: number; lag: number }[] }) {
  const behind = partitions.filter((p) => p.lag > 0);
  return (
    <small className="muted partition-lags" data-testid="partition-lags">
      {behind.length === 0
        ? ` · ${partitions.length} partitions caught up`
        : behind.map((p) => ` · ${p.topic}#${p.partition}: ${p.lag}`).join('')}
    </small>
  );
}
