import { randomInt, randomUUID } from 'node:crypto'

/**
 * Realistic Tylt callbacks for `tylt-relay send`, shaped after the pay-in examples of Tylt's documentation
 * (docs/metadata.md shows what the relay reads from each). Ids are fresh on every call, so each send is a
 * new event rather than a duplicate.
 */
export const SAMPLES = {
  cpg: () => {
    const now = Date.now()
    return {
      type: 'pay-in',
      data: {
        orderId: randomUUID(),
        merchantOrderId: `order-${randomInt(100_000, 999_999)}`,
        baseAmount: 25,
        baseCurrency: 'USDT',
        baseAmountReceived: 25,
        settledCurrency: 'USDT',
        settledAmountRequested: 25,
        settledAmountReceived: 25,
        settledAmountCredited: 24.75,
        commission: 0.25,
        network: 'TRC20',
        depositAddress: 'TXn3fYbQ7sV2yD8kLmP4rWc9aZ1eH6uJ5o',
        status: 'Completed',
        paymentURL: 'https://pay.example.com/checkout/sample',
        callBackURL: 'https://merchant.example.com/webhooks/crypto',
        transactions: [{ transactionHash: randomUUID().replaceAll('-', ''), amount: 25 }],
        createdAt: new Date(now - 300_000).toISOString(),
        expiresAt: new Date(now + 1_500_000).toISOString(),
      },
    }
  },
  upi: () => ({
    type: 'pay-in',
    data: {
      instanceId: randomUUID(),
      merchantOrderId: `upi-${randomInt(100_000, 999_999)}`,
      trade: {
        isBuyTrade: true,
        fiatAmount: 1500,
        fiatCurrency: 'INR',
        cryptoAmount: 17.2,
        cryptoCurrency: 'USDT',
        event: { id: 4, name: 'completed' },
      },
      userDetails: { name: 'Asha Verma', email: 'asha@example.com', dob: '1990-04-12' },
    },
  }),
} as const

export type SampleName = keyof typeof SAMPLES

export const isSampleName = (name: string): name is SampleName => Object.hasOwn(SAMPLES, name)

/** The sample as Tylt would send it: compact JSON, the form its own example handler signs. */
export const sampleBody = (name: SampleName): Buffer => Buffer.from(JSON.stringify(SAMPLES[name]()), 'utf8')
