/**
 * Area under the ROC curve: the probability that a random positive scores above a random
 * negative, ties counting half (Mann-Whitney U with mid-ranks). Null without both classes.
 */
export function rocAuc(scores: readonly number[], labels: readonly number[]): number | null {
  const order = scores.map((score, index) => ({ score, label: labels[index]! })).sort((a, b) => a.score - b.score);
  const positives = order.filter((item) => item.label === 1).length;
  const negatives = order.length - positives;
  if (positives === 0 || negatives === 0) return null;
  let positiveRanks = 0;
  for (let start = 0; start < order.length;) {
    let end = start;
    while (end + 1 < order.length && order[end + 1]!.score === order[start]!.score) end++;
    const midRank = (start + end) / 2 + 1;
    for (let i = start; i <= end; i++) if (order[i]!.label === 1) positiveRanks += midRank;
    start = end + 1;
  }
  return (positiveRanks - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Mean negative log-likelihood of the labels; probabilities are clipped so one sure mistake stays finite. */
export function logLoss(probabilities: readonly number[], labels: readonly number[], epsilon = 1e-15): number {
  if (probabilities.length === 0) throw new RangeError('logLoss of no examples');
  let sum = 0;
  for (let i = 0; i < probabilities.length; i++) {
    const p = Math.min(1 - epsilon, Math.max(epsilon, probabilities[i]!));
    sum -= labels[i] === 1 ? Math.log(p) : Math.log(1 - p);
  }
  return sum / probabilities.length;
}
