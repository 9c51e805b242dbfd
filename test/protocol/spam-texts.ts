// Message texts for the spam tests: one spam text as spammers vary it (words, links, amounts,
// case), and ordinary messages that must never be blocked with it.

export const SPAM_REWORDINGS = [
  'Your parcel could not be delivered. Pay the £1.99 redelivery fee at https://royal-mail-redeliver.example/abc123 within 24 hours.',
  'Your parcel could not be delivered! Pay the £2.49 redelivery fee at http://rm-parcels.example/x9 within 48 hours.',
  'Your package could not be delivered. Pay the £1.99 redelivery fee at www.post-fee.example/q within 24 hours',
  'YOUR PARCEL COULD NOT BE DELIVERED. Please pay the £3.00 redelivery fee at https://x.example/1 within 12 hours.',
];

export const UNRELATED_TEXTS = [
  'Hi mum, my phone broke, this is my new number. Can you text me back on WhatsApp please?',
  'Congratulations! You have won a £500 Tesco gift card. Claim now at https://win.example/claim before it expires.',
  'Are we still on for dinner on Friday? I booked the table at 7.',
  'Your dentist appointment is confirmed for Tuesday at 10:30. Reply C to cancel.',
];
