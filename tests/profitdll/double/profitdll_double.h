/* Test double of Nelogica's ProfitDLL: the modern subset's types, written from the vendor's
 * documented Delphi headers (see shared/docs/profitdll.md). Linux build: wchar_t is 4 bytes and the
 * calling convention is SysV; structs are naturally aligned like the TConnector* records. */
#ifndef PROFITDLL_DOUBLE_H
#define PROFITDLL_DOUBLE_H

#include <stdint.h>
#include <wchar.h>

#define NL_OK 0
#define NL_INTERNAL_ERROR ((int)0x80000001u)
#define NL_NOT_INITIALIZED ((int)0x80000002u)
#define NL_INVALID_ARGS ((int)0x80000003u)
#define NL_WAITING_SERVER ((int)0x80000004u)
#define NL_NO_LOGIN ((int)0x80000005u)
#define NL_NO_LICENSE ((int)0x80000006u)
#define NL_OUT_OF_RANGE ((int)0x80000009u)
#define NL_MARKET_ONLY ((int)0x8000000Au)
#define NL_NO_POSITION ((int)0x8000000Bu)
#define NL_NOT_FOUND ((int)0x8000000Cu)
#define NL_VERSION_NOT_SUPPORTED ((int)0x8000000Du)
#define NL_EXCHANGE_UNKNOWN ((int)0x8000000Fu)
#define NL_DUPLICATE_RESOURCE ((int)0x8000001Au)
#define NL_NO_PASSWORD ((int)0x8000001Cu)
#define NL_NO_USER ((int)0x8000001Du)
#define NL_INVALID_TICKER ((int)0x8000001Fu)
#define NL_HISTORY_PERIOD_LIMIT ((int)0x8000002Eu)

#define TC_IS_EDIT 1u
#define TC_LAST_PACKET 2u

typedef struct { uint16_t wYear, wMonth, wDayOfWeek, wDay, wHour, wMinute, wSecond, wMilliseconds; } TSystemTime;

typedef struct { const wchar_t *Ticker; const wchar_t *Exchange; int32_t Feed; } TAssetIDRec;

typedef struct { uint8_t Version; const wchar_t *Ticker; const wchar_t *Exchange; uint8_t FeedType; }
    TConnectorAssetIdentifier;

typedef struct {
    uint8_t Version; int32_t BrokerID; const wchar_t *AccountID; const wchar_t *SubAccountID; int64_t Reserved;
} TConnectorAccountIdentifier;

typedef struct {
    uint8_t Version; int32_t BrokerID; wchar_t AccountID[100]; int32_t AccountIDLength;
    wchar_t SubAccountID[100]; int32_t SubAccountIDLength; int64_t Reserved;
} TConnectorAccountIdentifierOut;

typedef struct {
    uint8_t Version; wchar_t *Ticker; int32_t TickerLength; wchar_t *Exchange; int32_t ExchangeLength;
    uint8_t FeedType;
} TConnectorAssetIdentifierOut;

typedef struct { uint8_t Version; int64_t LocalOrderID; const wchar_t *ClOrderID; } TConnectorOrderIdentifier;

typedef struct { uint8_t Version; double Price; uint32_t Count; int64_t Quantity; uint32_t PriceGroupFlags; }
    TConnectorPriceGroup;

typedef struct {
    uint8_t Version; TSystemTime TradeDate; uint32_t TradeNumber; double Price; int64_t Quantity;
    double Volume; int32_t BuyAgent; int32_t SellAgent; uint8_t TradeType;
} TConnectorTrade;

typedef struct {
    uint8_t Version; TConnectorAccountIdentifier AccountID; TConnectorAssetIdentifier AssetID;
    const wchar_t *Password; uint8_t OrderType; uint8_t OrderSide; double Price; double StopPrice;
    int64_t Quantity; int64_t MessageID; /* V2 */
} TConnectorSendOrder;

typedef struct {
    uint8_t Version; TConnectorAccountIdentifier AccountID; TConnectorOrderIdentifier OrderID;
    const wchar_t *Password; double Price; double StopPrice; int64_t Quantity; int64_t MessageID; /* V1 */
} TConnectorChangeOrder;

typedef struct {
    uint8_t Version; TConnectorAccountIdentifier AccountID; TConnectorOrderIdentifier OrderID;
    const wchar_t *Password; int64_t MessageID; /* V1 */
} TConnectorCancelOrder;

typedef struct {
    uint8_t Version; TConnectorAccountIdentifier AccountID; TConnectorAssetIdentifier AssetID;
    const wchar_t *Password;
} TConnectorCancelOrders;

typedef struct { uint8_t Version; TConnectorAccountIdentifier AccountID; const wchar_t *Password; }
    TConnectorCancelAllOrders;

typedef struct {
    uint8_t Version; TConnectorAccountIdentifier AccountID; TConnectorAssetIdentifier AssetID;
    const wchar_t *Password; double Price; uint8_t PositionType; /* V1 */ int64_t MessageID; /* V2 */
} TConnectorZeroPosition;

typedef struct {
    uint8_t Version; TConnectorOrderIdentifier OrderID; TConnectorAccountIdentifierOut AccountID;
    TConnectorAssetIdentifierOut AssetID; int64_t Quantity; int64_t TradedQuantity; int64_t LeavesQuantity;
    double Price; double StopPrice; double AveragePrice; uint8_t OrderSide; uint8_t OrderType;
    uint8_t OrderStatus; uint8_t ValidityType; TSystemTime Date; TSystemTime LastUpdate; TSystemTime CloseDate;
    TSystemTime ValidityDate; wchar_t *TextMessage; int32_t TextMessageLength; int64_t EventID;
} TConnectorOrderOut;

typedef struct {
    uint8_t Version; TConnectorOrderIdentifier OrderID; TConnectorAccountIdentifier AccountID;
    TConnectorAssetIdentifier AssetID; int64_t Quantity; int64_t TradedQuantity; int64_t LeavesQuantity;
    double Price; double StopPrice; double AveragePrice; uint8_t OrderSide; uint8_t OrderType;
    uint8_t OrderStatus; uint8_t ValidityType; TSystemTime Date; TSystemTime LastUpdate; TSystemTime CloseDate;
    TSystemTime ValidityDate; const wchar_t *TextMessage; int64_t EventID;
} TConnectorOrder;

typedef struct {
    uint8_t Version; TConnectorAccountIdentifier AccountID; TConnectorAssetIdentifier AssetID;
    int64_t OpenQuantity; double OpenAveragePrice; uint8_t OpenSide;
    double DailyAverageSellPrice; int64_t DailySellQuantity; double DailyAverageBuyPrice; int64_t DailyBuyQuantity;
    int64_t DailyQuantityD1, DailyQuantityD2, DailyQuantityD3, DailyQuantityBlocked, DailyQuantityPending,
        DailyQuantityAlloc, DailyQuantityProvision, DailyQuantity, DailyQuantityAvailable;
    uint8_t PositionType; int64_t EventID;
} TConnectorTradingAccountPosition;

typedef struct {
    uint8_t Version; int32_t BrokerID; TConnectorOrderIdentifier OrderID; int64_t MessageID;
    uint8_t ResultCode; const wchar_t *Message; int32_t MessageLength;
} TConnectorTradingMessageResult;

typedef void (*TStateCallback)(int32_t type, int32_t result);
typedef void (*THealthCallback)(int32_t status);
typedef void (*TConnectorTradeCallback)(TConnectorAssetIdentifier asset, void *trade, uint32_t flags);
typedef void (*TProgressCallback)(TAssetIDRec asset, int32_t progress);
typedef void (*TConnectorPriceDepthCallback)(TConnectorAssetIdentifier asset, uint8_t side, int32_t pos,
                                             uint8_t update_type);
/* OfferBook V2: qty i64; the five has-flags are Delphi Chars (one argument slot each); the two arrays are
 * non-NULL only for a full book (action 4) and are freed by the client with FreePointer. */
typedef void (*TOfferBookCallbackV2)(TAssetIDRec asset, int32_t action, int32_t pos, int32_t side, int64_t qty,
                                     int32_t agent, int64_t offer_id, double price, uint8_t has_price,
                                     uint8_t has_qty, uint8_t has_date, uint8_t has_offer_id, uint8_t has_agent,
                                     const wchar_t *date, void *sell, void *buy);
#define OB_LAST_PACKET 1u
#define OFFER_ENTRY_V2_SIZE 53 /* f64 price, i64 qty, i32 agent, i64 offerId, u16 len, char date[23]; packed */
typedef void (*TConnectorOrderCallback)(TConnectorOrderIdentifier order);
typedef void (*TTradingMessageResultCallback)(const TConnectorTradingMessageResult *result);
typedef void (*TAccountCallback)(int32_t broker, const wchar_t *broker_name, const wchar_t *account,
                                 const wchar_t *holder);
typedef int32_t (*TConnectorEnumerateOrdersProc)(const TConnectorOrder *order, intptr_t param);
typedef int32_t (*TConnectorEnumerateAssetProc)(TConnectorAssetIdentifier asset, intptr_t param);

#endif
