import { intentTerms, maskedIntent } from './intent-terms';

describe('intentTerms', () => {
  it('masks ids, order numbers, emails, numbers and codes as entity slots', () => {
    expect(intentTerms('Cancel order #W2378156 and refund credit_card_4421486 to mei.chen@example.com')).toEqual(['cancel', 'order', '<id>', 'refund', '<id>', '<email>']);
    expect(intentTerms('fly from JFK to SEA on 2024-05-20 with 3 bags for $250')).toEqual(['fly', '<code>', '<code>', '<date>', '<num>', 'bag', '<money>']);
  });

  it('masks proper names (one slot for first and last name) but not a capitalised first word', () => {
    expect(intentTerms('You are Yusuf Rossi in 19122. Exchange the keyboard.')).toEqual(['<name>', '<num>', 'exchang', 'keyboard']);
    expect(intentTerms('I am Sofia Kim and my zip is 10001')).toEqual(['<name>', 'zip', '<num>']);
    // "Return" opens the sentence: a word, not a name.
    expect(intentTerms('Return the lamp')).toEqual(['return', 'lamp']);
  });

  it('masks quoted text, drops stop words, and meets word forms', () => {
    expect(intentTerms('Please post "Release 1.2 is out" to the channel')).toEqual(['post', '<quoted>', 'channel']);
    expect(maskedIntent('reviewing reviews')).toBe(maskedIntent('reviewed review'));
  });

  it('gives two requests of one kind the same terms whoever makes them', () => {
    const a = intentTerms('You are Yusuf Rossi in 19122. Cancel order #W2378156 because you no longer need it.');
    const b = intentTerms('You are Mei Davis in 80217. Cancel order #W1111111 because you no longer need it.');
    expect(a).toEqual(b);
  });
});
